"""What the command line says on its terminal, and how it fails: French, never a traceback.

`guarded` runs a command with standard output and error passed through `fmt.printable` (no
escape sequence of a document reaches the terminal) and turns every way it can stop into a
French message and an exit code: a BudgetError (1), Ctrl-C (130, what shells report for
SIGINT), a stop asked by `kill` or a service manager (SIGTERM: 143), a standard stream the
system refuses to write (a full disk behind `> file`: 1), a reader that stopped reading
(`| head`: 1, silently), standard output or error closed at start (1, before anything is
done). `FrenchParser` says argparse's help and refusals in French (exit 2).
"""

from __future__ import annotations

import argparse
import io
import os
import signal
import sys
from collections.abc import Callable, Iterable
from typing import Any, NoReturn, TextIO

from budget_core.errors import BudgetError
from budget_core.fmt import printable

OUTPUT_STREAM = "<sortie standard>"
ERROR_STREAM = "<sortie d'erreur>"
STOPPED = {signal.SIGINT: "interrompu (Ctrl-C)", signal.SIGTERM: "arrêté (signal TERM)"}


class _Terminated(BaseException):
    """SIGTERM, raised where the command is, like Ctrl-C's KeyboardInterrupt: what it was
    writing is cleaned up on the way out (fsutil's atomic writes remove their temporary file).
    """


def _terminate(number: int, frame: object) -> NoReturn:
    raise _Terminated

# argparse's own messages (English), as said in French: (pattern, French with its groups).
ARGPARSE_FRENCH = (
    (r"the following arguments are required: (.+)", r"arguments obligatoires manquants : \1"),
    (r"argument (\S+): invalid choice: '?(.*?)'? \(choose from (.+)\)",
     r"argument \1 : « \2 » n'est pas un choix possible (choix : \3)"),
    (r"argument (\S+): invalid int value: '?(.*?)'?",
     r"argument \1 : « \2 » n'est pas un nombre entier"),
    (r"argument (\S+): invalid float value: '?(.*?)'?",
     r"argument \1 : « \2 » n'est pas un nombre"),
    (r"argument (\S+): not allowed with argument (\S+)",
     r"argument \1 : incompatible avec l'argument \2"),
    (r"argument (\S+): expected one argument", r"argument \1 : une valeur est attendue"),
    (r"unrecognized arguments: (.+)", r"arguments inconnus : \1"),
)


class FrenchHelp(argparse.HelpFormatter):
    """argparse's help, with its « usage: » said in French."""

    def add_usage(self, usage: str | None, actions: Iterable[argparse.Action],
                  groups: Iterable[argparse._MutuallyExclusiveGroup],
                  prefix: str | None = None) -> None:
        super().add_usage(usage, actions, groups, "usage : " if prefix is None else prefix)


class FrenchParser(argparse.ArgumentParser):
    """argparse in French: its help (headings, `-h`, usage line; the commands' own texts are
    French already) and its refusals (a missing or unknown argument, a bad value), with what
    to do: the usage line, then « Erreur : … Que faire : … --help », exit code 2. A message
    argparse words in a way the table does not know is kept as it is. Sub-commands' parsers
    are FrenchParsers too (argparse makes them of the parent's class)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        add_help = kwargs.pop("add_help", True)
        kwargs.setdefault("formatter_class", FrenchHelp)
        kwargs["add_help"] = False
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        if add_help:
            self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                              help="afficher cette aide et quitter")

    def error(self, message: str) -> NoReturn:
        import re

        for english, french in ARGPARSE_FRENCH:
            if (found := re.fullmatch(english, message)) is not None:
                message = found.expand(french)
                break
        self.print_usage(sys.stderr)
        self.exit(2, f"Erreur : {message}. Que faire : « {self.prog} --help » décrit les "
                     "arguments.\n")


class StreamError(BudgetError):
    """Standard output or error cannot be written: nothing more can be printed there."""


class _Printable(io.TextIOBase):
    """A terminal stream that every printed text goes through `fmt.printable` on its way; a
    write the system refuses is a StreamError naming the stream."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self._stream = stream
        self._name = name

    def write(self, text: str) -> int:
        try:
            self._stream.write(printable(text))
        except BrokenPipeError:  # the reader left: `guarded` says nothing
            raise
        except OSError as exc:
            raise self._refused(exc) from exc
        return len(text)

    def flush(self) -> None:
        try:
            self._stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise self._refused(exc) from exc

    def _refused(self, exc: OSError) -> StreamError:
        return StreamError(f"écriture impossible ({exc.strerror or exc}).", source=self._name,
                           hint="Vérifiez la place libre là où elle est redirigée.")


def guarded(command: Callable[[], int]) -> int:
    """Run `command` (which returns its exit code) as the terminal's command: see above."""
    if sys.stdout is None or sys.stderr is None:  # started with `>&-` or `2>&-`
        if sys.stderr is not None:
            print("Erreur : la sortie standard est fermée : ce que la commande affiche serait "
                  "perdu. Que faire : redirigez-la vers un fichier ou vers /dev/null.",
                  file=sys.stderr)
        return 1
    streams = sys.stdout, sys.stderr
    on_term = signal.signal(signal.SIGTERM, _terminate)
    sys.stdout = _Printable(sys.stdout, OUTPUT_STREAM)
    sys.stderr = _Printable(sys.stderr, ERROR_STREAM)
    try:
        code = command()
        sys.stdout.flush()  # a full disk behind `> file` is told now, not at exit
        return code
    except StreamError as exc:
        _silence(streams[0])
        if exc.source != ERROR_STREAM:  # else nowhere is left to say it
            print(f"Erreur : {exc.french()}", file=streams[1])
        return 1
    except BudgetError as exc:
        print(f"Erreur : {exc.french()}", file=sys.stderr)
        return 1
    except (KeyboardInterrupt, _Terminated) as exc:  # outputs are written atomically
        number = signal.SIGTERM if isinstance(exc, _Terminated) else signal.SIGINT
        print(f"Erreur : {STOPPED[number]}. Aucun fichier n'a été écrit à moitié : un "
              "fichier de sortie en cours d'écriture est resté tel qu'il était. Que faire : "
              "relancez la commande.", file=sys.stderr)
        return 128 + number
    except BrokenPipeError:  # `budget cache | head`: the reader stopped reading
        _silence(streams[0])
        return 1
    finally:
        sys.stdout, sys.stderr = streams
        signal.signal(signal.SIGTERM, on_term)


def _silence(stream: TextIO) -> None:
    """Point `stream`'s descriptor at /dev/null: what it still buffers must not fail at exit."""
    os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
