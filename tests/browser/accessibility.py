"""Accessibility check of a browser page with the vendored axe-core.

The page's Content-Security-Policy (`script-src 'self' 'nonce-…'`) refuses an
inline <script> tag, so `page.add_script_tag(content=...)` cannot load axe.
Scripts given to `page.evaluate` or `context.add_init_script` go through the
DevTools protocol, which a CSP does not govern: the browser fixtures add axe as
an init script, and `axe_violations` evaluates it into any page still without it.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from playwright.sync_api import Page

AXE_PATH = Path(__file__).resolve().parent / "vendor" / "axe-4.14.1.min.js"

#: WCAG 2.0 and 2.1, levels A and AA.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

#: Violations of these impacts fail a test; "minor" and "moderate" ones do not.
FAILING_IMPACTS = {"serious", "critical"}

_RUN_AXE = """
async (runOnly) => {
  const results = await axe.run(document, {
    runOnly,
    resultTypes: ["violations"],
  });
  return results.violations.map((violation) => ({
    id: violation.id,
    impact: violation.impact,
    help: violation.help,
    helpUrl: violation.helpUrl,
    nodes: violation.nodes.map((node) => ({
      target: node.target.map(String).join(" "),
      html: node.html,
      summary: node.failureSummary,
    })),
  }));
}
"""


@cache
def axe_source() -> str:
    return AXE_PATH.read_text(encoding="utf-8")


def axe_violations(page: Page, rules: list[str] | None = None) -> list[dict]:
    """Every WCAG 2.0/2.1 A and AA violation axe finds on the page as it is now; with
    `rules`, the violations of those axe rules only (best-practice ones have no WCAG tag)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        # Wrapped so that Playwright evaluates the file as a statement list and
        # does not try to call whatever its last expression returns.
        page.evaluate("() => { " + axe_source() + "\n}")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            raise AssertionError(f"axe-core did not load into {page.url}")
    run_only = {"type": "rule", "values": rules} if rules else {"type": "tag", "values": WCAG_TAGS}
    return page.evaluate(_RUN_AXE, run_only)


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"Accessibility violations on {url}:"]
    for violation in violations:
        lines.append(
            f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"
        )
        for node in violation["nodes"]:
            lines.append(f"    at {node['target']}: {node['html'][:200]}")
            for summary_line in (node["summary"] or "").splitlines():
                lines.append(f"      {summary_line}")
    return "\n".join(lines)


def assert_accessible(page: Page) -> None:
    """Fail listing every serious or critical WCAG 2.1 AA violation on the page."""
    failing = [v for v in axe_violations(page) if v["impact"] in FAILING_IMPACTS]
    if failing:
        raise AssertionError(format_violations(page.url, failing))
