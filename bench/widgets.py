"""The widgets of a Streamlit page, found at run time by their label, and how to change each:
shared by bench/bench_app.py's modes (one widget a page, or every widget of a page).

A widget is reached again by where it is (main area or sidebar, and the main area's tab
holding it), its kind (`data-testid`), its label and its rank among the widgets of that kind
and label there, so that a page drawn anew (a new session) gives the same widget. Each change
alternates between two values, so that an even number of changes leaves the page as it was:
- selectbox: its first two options, A → B, B → A;
- multiselect: its first option not chosen is added, then removed (its tag's « Remove »);
- radio and button group (segmented control, pills): the first of its first two items not
  chosen; checkbox and toggle: a click;
- slider: a click on its track at a quarter or three quarters, whichever is farther from the
  value shown; number input: its « + », or « − » when the value is at its maximum, then back;
- text input: its value and the value plus « a », typed, then Enter;
- expander: a click on its title (opened, then closed); one that opens without a rerun (no
  `on_change`) is no widget change, and is reported as such.
Never changed, and counted apart: buttons, download buttons, file uploaders (a button starts
a download, a sync over the network or a write; an upload is no change of a value), and the
widgets of an `st.form` (nothing reruns before its submit button).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from playwright.sync_api import Locator, Page
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

MAIN = "[data-testid='stMain']"
SIDEBAR = "[data-testid='stSidebar']"
AREAS = {MAIN: "", SIDEBAR: "barre latérale"}
WORDS = {"stSelectbox": "selectbox", "stMultiSelect": "multiselect", "stRadio": "radio",
         "stButtonGroup": "button group", "stCheckbox": "checkbox", "stSlider": "slider",
         "stNumberInput": "number input", "stTextInput": "text input",
         "stExpander": "expander"}
# What the page shows that is no widget change (clicked, it downloads, syncs or writes).
SKIPPED = {"stButton": "button", "stDownloadButton": "download button",
           "stFileUploader": "file uploader"}
VISIBLE = " >> visible=true"
TITLE = "[data-testid='stMarkdownContainer']"  # an expander's title (its icon is text too)


@dataclass(frozen=True)
class Spot:
    """Where a widget is: area (MAIN or SIDEBAR), the main area's tab holding it ("" when
    none), kind (`data-testid`), label and rank among the widgets of that kind and label."""

    area: str
    tab: str
    testid: str
    label: str
    nth: int = 0

    def description(self) -> str:
        where = [w for w in (AREAS[self.area], f"onglet « {self.tab} »" if self.tab else "")
                 if w]
        rank = f" #{self.nth + 1}" if self.nth else ""
        return (f"{WORDS[self.testid]} « {self.label} »{rank}"
                + (f" ({', '.join(where)})" if where else ""))


@dataclass
class Found:
    spot: Spot
    change: Callable[[], None]

    @property
    def description(self) -> str:
        return self.spot.description()


def label_of(widget: Locator) -> str:
    if widget.get_attribute("data-testid") == "stExpander":  # its title, not its icon's name
        title = widget.locator(f"summary {TITLE}").first
        return (title.text_content() or "").strip()
    label = widget.locator("[data-testid='stWidgetLabel']")
    return (label.first.text_content() or "").strip() if label.count() else ""


def locate(page: Page, spot: Spot) -> Locator:
    """The widget at `spot`, by its label (a whole label: « Collectivité » is not « Type de
    collectivité »)."""
    widgets = page.locator(f"{spot.area} [data-testid='{spot.testid}']")
    if spot.label:
        whole = re.compile(rf"^\s*{re.escape(spot.label)}\s*$")
        inner = (f"summary {TITLE}" if spot.testid == "stExpander"
                 else "[data-testid='stWidgetLabel']")
        widgets = widgets.filter(has=page.locator(inner, has_text=whole))
    return widgets.nth(spot.nth)


def show_tab(page: Page, tab: str) -> None:
    """Select the main area's tab named `tab` (no rerun: Streamlit's tabs are drawn in the
    browser)."""
    if tab:
        page.locator(f"{MAIN} [role='tab']", has_text=tab).first.click()
        page.wait_for_timeout(200)


def changeable(page: Page, widget: Locator, testid: str) -> bool:
    """Whether `widget` can be changed between two values: visible, enabled, outside a form,
    and for a selectbox two options at least (its list opened and closed to count them)."""
    if not widget.is_visible() or widget.locator("input[disabled]").count() or \
            widget.locator("xpath=ancestor::*[@data-testid='stForm']").count():
        return False
    if testid == "stSelectbox":
        widget.scroll_into_view_if_needed()  # see selectbox_changer
        widget.click()
        options = page.locator("[role='option']")
        try:
            options.first.wait_for(timeout=5_000)
        except PlaywrightTimeoutError:
            return False
        count = options.count()
        page.keyboard.press("Escape")
        options.first.wait_for(state="detached", timeout=5_000)
        return count >= 2
    if testid in ("stRadio", "stButtonGroup"):
        return widget.locator(ITEMS[testid]).count() >= 2
    return True


def spots_in(page: Page, area: str, tab: str = "") -> list[Spot]:
    """Every changeable widget of `area` as drawn now, in page order."""
    found: list[Spot] = []
    kinds = ", ".join(f"{area} [data-testid='{testid}']" for testid in WORDS)
    seen: dict[tuple[str, str], int] = {}
    for widget in page.locator(kinds).all():
        testid = widget.get_attribute("data-testid") or ""
        label = label_of(widget)
        rank = seen.get((testid, label), 0)
        seen[(testid, label)] = rank + 1
        if changeable(page, widget, testid):
            found.append(Spot(area, tab, testid, label, rank))
    return found


def every_widget(page: Page) -> tuple[list[Spot], dict[str, int]]:
    """Every changeable widget of the page (main area, its other tabs, sidebar), and how many
    of what was skipped (buttons, downloads, uploaders) the page shows."""
    spots = spots_in(page, MAIN)
    for tab in page.locator(f"{MAIN} [role='tab']").all():
        if tab.is_visible() and tab.get_attribute("aria-selected") != "true":
            name = tab.inner_text().strip()
            show_tab(page, name)
            spots += [s for s in spots_in(page, MAIN, name)
                      if all((s.testid, s.label, s.nth) != (t.testid, t.label, t.nth)
                             for t in spots)]
    spots += spots_in(page, SIDEBAR)
    skipped = {word: page.locator(f"[data-testid='{testid}']{VISIBLE}").count()
               for testid, word in SKIPPED.items()}
    return spots, {word: count for word, count in skipped.items() if count}


def first_widget(page: Page, area: str) -> Found | None:
    """The widget the one-widget mode changes in `area`: its first changeable selectbox, else
    radio, button group, toggle or checkbox, else text input."""
    spots = spots_in(page, area)
    for kind in ("stSelectbox", "stRadio", "stButtonGroup", "stCheckbox", "stTextInput"):
        for spot in spots:
            if spot.testid == kind:
                return found_at(page, spot)
    return None


def found_at(page: Page, spot: Spot) -> Found:
    return Found(spot, CHANGERS[spot.testid](page, spot))


def selectbox_changer(page: Page, spot: Spot) -> Callable[[], None]:
    def change() -> None:
        box = locate(page, spot)
        options = page.locator("[role='option']")
        options.first.wait_for(state="detached", timeout=5_000)  # last list closed
        current = box.locator("input").first.input_value()  # read closed: open, it filters
        # In view first: a list opened by the click that also scrolls the page to a widget
        # below the fold closes at once (Playwright found no option, and the sweep left out
        # every selectbox below the fold, such as Publier's « Département »).
        box.scroll_into_view_if_needed()
        box.click()
        options.first.wait_for(timeout=5_000)
        target = options.nth(1) if options.first.inner_text().strip() == current \
            else options.first
        target.click()
    return change


def multiselect_changer(page: Page, spot: Spot) -> Callable[[], None]:
    added: list[str] = []

    def change() -> None:
        box = locate(page, spot)
        if added:  # the option added last is the last tag
            added.pop()
            box.locator(f"[data-tag] button{VISIBLE}").last.click()
            return
        box.locator(f"input{VISIBLE}").first.click()
        option = page.locator("[role='option']").first
        try:
            option.wait_for(timeout=1_000)
        except PlaywrightTimeoutError:  # a click left Évolution's « Chapitres » list closed
            page.keyboard.press("ArrowDown")
            option.wait_for(timeout=5_000)
        added.append(option.inner_text().strip())
        option.click()
        page.keyboard.press("Escape")
    return change


# What is clicked: a radio's options (its label is a <label> too), a group's buttons.
ITEMS = {"stRadio": "[data-testid='stRadioOption']", "stButtonGroup": "button",
         "stCheckbox": "label"}


def clicker(page: Page, spot: Spot) -> Callable[[], None]:
    def change() -> None:
        items = locate(page, spot).locator(ITEMS[spot.testid])
        target = items.first
        if spot.testid != "stCheckbox":
            chosen = items.first.locator("input:checked").count() or \
                items.first.get_attribute("aria-checked") == "true" or \
                "Active" in (items.first.get_attribute("data-testid") or "")
            target = items.nth(1) if chosen else items.first
        target.click()
    return change


def slider_changer(page: Page, spot: Spot) -> Callable[[], None]:
    def change() -> None:
        widget = locate(page, spot)
        thumb = widget.locator("[role='slider']").first
        low, high, now = (float(thumb.get_attribute(a) or 0)
                          for a in ("aria-valuemin", "aria-valuemax", "aria-valuenow"))
        at = 0.25 if high > low and (now - low) / (high - low) > 0.5 else 0.75
        track = widget.locator("[data-baseweb='slider'] > div").first
        box = track.bounding_box() or widget.bounding_box()
        if box:
            page.mouse.click(box["x"] + box["width"] * at, box["y"] + box["height"] / 2)
    return change


def number_changer(page: Page, spot: Spot) -> Callable[[], None]:
    back: list[str] = []  # the step that undoes the last one

    def change() -> None:
        widget = locate(page, spot)
        if back:
            step = back.pop()
        else:
            field = widget.locator("input").first
            value, high = field.input_value(), field.get_attribute("max")
            step = "Down" if high and value and float(value) >= float(high) else "Up"
            back.append("Up" if step == "Down" else "Down")
        widget.locator(f"[data-testid='stNumberInputStep{step}']").click()
    return change


def typer(page: Page, spot: Spot) -> Callable[[], None]:
    def change() -> None:
        box = locate(page, spot).locator("input")
        value = box.input_value()
        box.fill(value[:-1] if value.endswith("a") else f"{value}a")
        box.press("Enter")
    return change


def expander_clicker(page: Page, spot: Spot) -> Callable[[], None]:
    def change() -> None:
        locate(page, spot).locator("summary").first.click()
    return change


CHANGERS: dict[str, Callable[[Page, Spot], Callable[[], None]]] = {
    "stSelectbox": selectbox_changer, "stMultiSelect": multiselect_changer,
    "stRadio": clicker, "stButtonGroup": clicker, "stCheckbox": clicker,
    "stSlider": slider_changer, "stNumberInput": number_changer, "stTextInput": typer,
    "stExpander": expander_clicker}
