"""Rendering review packets: Jinja templates to HTML, WeasyPrint to PDF, all or nothing.

Templates come from the packaged ``templates/`` folder or a user's ``--templates``
folder, with autoescaping on (an agent named ``<b>x</b>`` prints literally).
WeasyPrint may fetch nothing but files inside that template folder: no network, no
other file on the machine.  Chinese text needs a CJK font; when none is installed
the report stops with a message that names the package, instead of printing
boxes.  Packets are laid out in parallel on all cores; everything is written to a
temporary folder first and moved into place at the end, so a failure leaves the
output folder as it was.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unicodedata
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from perfrules.report.model import AgentPacket, Report, TeamSummary
from perfrules.report.texts import texts
from perfrules.resources import resource_dir

UNSAFE_FILE_CHARACTERS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


class ReportProblem(Exception):
    """The packets cannot be made (no CJK font, a template error, an unwritable folder)."""


@dataclass
class RenderTimes:
    """Where the time went: template rendering (Jinja) versus layout (WeasyPrint)."""

    templates: float = 0.0
    layout: float = 0.0
    files: int = 0


def safe_file_name(text: str) -> str:
    cleaned = UNSAFE_FILE_CHARACTERS.sub("_", unicodedata.normalize("NFC", text)).strip(" .")
    return cleaned[:80] or "_"


def packet_path(packet: AgentPacket) -> str:
    return f"{safe_file_name(packet.period)}/{safe_file_name(packet.agent_id + '-' + packet.name)}.pdf"


def summary_path(summary: TeamSummary, several: bool) -> str:
    name = "team-summary" if not several else f"team-summary-{safe_file_name(summary.policy['name'])}"
    return f"{safe_file_name(summary.period)}/{name}.pdf"


# ---- fonts ------------------------------------------------------------------------------------


def needs_cjk(text: str) -> bool:
    return any(unicodedata.east_asian_width(char) in "WF" and not char.isspace() for char in text)


def cjk_font_installed() -> bool:
    try:
        found = subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True, timeout=30)
        return bool(found.stdout.strip())
    except (OSError, subprocess.SubprocessError):
        roots = [Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts"]
        return any(any(root.rglob("*CJK*")) for root in roots if root.is_dir())


def check_fonts(sample_text: str) -> None:
    if needs_cjk(sample_text) and not cjk_font_installed():
        raise ReportProblem(
            "no installed font covers Chinese text, so the PDFs would show empty boxes; "
            "install one, for example: apt-get install fonts-noto-cjk"
        )


# ---- templates -----------------------------------------------------------------------------------


def template_environment(folder: Path):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=FileSystemLoader(str(folder)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default=True),
        undefined=StrictUndefined,
    )


def render_html(folder: Path, report: Report, several_policies: bool) -> tuple[list[tuple[str, str]], float]:
    """(relative PDF path, HTML) for every packet and summary; and the seconds it took."""
    from jinja2 import TemplateError

    started = time.perf_counter()
    environment = template_environment(folder)
    pages = []
    try:
        agent_template = environment.get_template("agent.html")
        team_template = environment.get_template("team.html")
        for packet in report.packets:
            pages.append((packet_path(packet), agent_template.render(packet=packet, t=texts(packet.language))))
        for summary in report.summaries:
            pages.append((summary_path(summary, several_policies),
                          team_template.render(summary=summary, t=texts(summary.language))))
    except TemplateError as error:
        location = f"{getattr(error, 'filename', None) or error.__class__.__name__}:{getattr(error, 'lineno', '?')}"
        raise ReportProblem(f"template error at {location}: {error}") from None
    return pages, time.perf_counter() - started


def _fetcher(folder: Path):
    from weasyprint.urls import URLFetcher

    class TemplateFolderFetcher(URLFetcher):
        """Fetches files inside the template folder and nothing else."""

        def fetch(self, url, headers=None):
            parsed = urlparse(url)
            if parsed.scheme != "file":
                raise ValueError(f"reports load nothing from outside the template folder: {url}")
            path = Path(unquote(parsed.path)).resolve()
            if not path.is_relative_to(folder):
                raise ValueError(f"reports load nothing from outside the template folder: {path}")
            return super().fetch(url, headers)

    return TemplateFolderFetcher(allowed_protocols={"file"})


def _layout(job: tuple[str, str, str]) -> float:
    """Lay out one HTML page set as PDF (runs in a worker process); returns seconds."""
    html, target, folder = job
    import logging

    from weasyprint import HTML

    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    started = time.perf_counter()
    folder_path = Path(folder).resolve()
    HTML(string=html, base_url=str(folder_path) + os.sep, url_fetcher=_fetcher(folder_path)).write_pdf(target)
    return time.perf_counter() - started


def write_report(report: Report, output: Path, templates: Path | None = None, workers: int | None = None,
                 progress: bool = True) -> tuple[list[Path], RenderTimes]:
    """Render every packet and summary into ``output``; return the files written.

    Everything is rendered into a staging folder first; only when all files exist are
    they moved into place (each with an atomic rename), replacing the files of the
    same names and leaving every other file of the folder alone.
    """
    folder = (templates or resource_dir("templates")).resolve()
    for name in ("agent.html", "team.html"):
        if not (folder / name).is_file():
            raise ReportProblem(f"the template folder {folder} has no {name}")
    several = len(report.summaries) > 1
    pages, template_seconds = render_html(folder, report, several)
    check_fonts("".join(html for _, html in pages[:50]) + "".join(p.name for p in report.packets))
    output = output.resolve()
    existed = output.exists()
    try:
        output.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".perfrules-report-", dir=output))
    except OSError as error:
        raise ReportProblem(f"cannot write to {output}: {error.strerror or error}") from None
    times = RenderTimes(templates=template_seconds, files=len(pages))
    try:
        jobs = []
        for relative, html in pages:
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            jobs.append((html, str(target), str(folder)))
        times.layout = _run_layout(jobs, workers, progress)
        written = _move_files(staging, output)
    except (OSError, BrokenProcessPool) as error:
        reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
        raise ReportProblem(f"the PDF files could not be written to {output}: {reason}; nothing was changed") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        if not existed and not any(output.iterdir()):
            output.rmdir()
    return written, times


def _run_layout(jobs: list[tuple[str, str, str]], workers: int | None, progress: bool) -> float:
    workers = workers or os.cpu_count() or 1
    if workers == 1 or len(jobs) == 1:
        return sum(_layout(job) for job in jobs)
    import multiprocessing

    from rich.console import Console
    from rich.progress import Progress

    total = 0.0
    # Fresh worker processes: a forked copy of a process that holds DuckDB connections is
    # not safe (it can crash when the copy frees them).
    context = multiprocessing.get_context("spawn")
    # Workers ignore Ctrl-C (the terminal sends it to all of them): the parent stops them.
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context,
                             initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)) as pool, \
            Progress(console=Console(stderr=True), transient=True, disable=not progress) as bar:
        task = bar.add_task("PDF", total=len(jobs))
        futures = [pool.submit(_layout, job) for job in jobs]
        try:
            for future in as_completed(futures):
                total += future.result()
                bar.advance(task)
        except BaseException:  # an interrupt or a failed file: do not render the rest first
            pool.shutdown(wait=False, cancel_futures=True)
            raise
    return total


def _move_files(staging: Path, output: Path) -> list[Path]:
    """Move every rendered file into place (an atomic rename each)."""
    written = []
    for file in sorted(staging.rglob("*.pdf")):
        target = output / file.relative_to(staging)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(file, target)
        written.append(target)
    return written
