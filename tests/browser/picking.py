"""Pickers (Tom Select over a multiple select) used as a person does: by the keyboard."""

from __future__ import annotations

from playwright.sync_api import Locator, Page, expect


def picker(scope: Page | Locator, label: str) -> Locator:
    """The picker's search box: a combobox named by the field's label."""
    return scope.get_by_role("combobox", name=label, exact=True)


def pick(scope: Page | Locator, label: str, *typed: str) -> None:
    """Focus the picker labelled `label`, and for each of `typed` type it and press Enter (the
    first option that matches), then Escape to close the list."""
    box = picker(scope, label)
    box.focus()
    page = box.page
    listbox = page.locator(f"#{box.get_attribute('aria-controls')}")
    for text in typed:
        box.press_sequentially(text)
        expect(listbox.locator(".option.active")).to_contain_text(text, ignore_case=True)
        box.press("Enter")
    box.press("Escape")


def chosen(scope: Page | Locator, name: str) -> list[str]:
    """The values the (hidden) select `name` submits."""
    return scope.locator(f'select[name="{name}"]').evaluate(
        "select => Array.from(select.selectedOptions).map(option => option.value)"
    )
