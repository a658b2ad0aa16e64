"""Rendering review packets: Jinja templates to HTML, WeasyPrint to PDF, all or nothing.

Templates come from the packaged ``templates/`` folder or a user's ``--templates``
folder, with autoescaping on (an agent named ``<b>x</b>`` prints literally).
WeasyPrint may fetch nothing but files inside that template folder: no network, no
other file on the machine.  Chinese text needs a CJK font; when none is installed
the report stops with a message that names the package, instead of printing
boxes.  Packets are laid out in parallel on the cores this process may use (CPU
affinity and the cgroup's CPU quota), in worker processes that die with their parent.
Everything is written to a staging folder first and moved into place at the end, with
every replaced file kept aside until all are in place, so a failure (a full disk,
SIGTERM) leaves the output folder as it was.  File names are unique: a name that lost
characters to sanitising or shortening (to 255 bytes of UTF-8) carries a short hash of
the text it came from.  User templates run in Jinja's sandbox.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import traceback
import unicodedata
from concurrent.futures import ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from perfrules.files import remove_stale_temporaries, signals_held, temporary_prefix, terminate_cleanly
from perfrules.report.model import AgentPacket, Report, TeamSummary
from perfrules.texts import texts
from perfrules.resources import resource_dir

UNSAFE_FILE_CHARACTERS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f-\x9f]+')
MAX_NAME_BYTES = 255  # a file name's limit on Linux file systems, in bytes of UTF-8
SUMMARY_STEM = "team-summary"


class ReportProblem(Exception):
    """The packets cannot be made (no CJK font, a template error, an unwritable folder)."""


@dataclass
class RenderTimes:
    """Where the time went: template rendering (Jinja) versus layout (WeasyPrint)."""

    templates: float = 0.0
    layout: float = 0.0
    files: int = 0


def safe_file_name(text: str, suffix: str = "", reserved: str | None = None) -> str:
    """``text`` as a file name ending in ``suffix``, at most 255 bytes of UTF-8.

    Unsafe characters become ``_``; when that, Unicode normalisation or shortening lost
    anything, or the name would start like ``reserved``, ``~`` and 10 hex digits of the
    text's SHA-256 follow, so that different texts never share a name (``a/b``, ``a_b``
    and ``a:b`` give three names) and the same text always gets the same one.
    """
    cleaned = UNSAFE_FILE_CHARACTERS.sub("_", unicodedata.normalize("NFC", text)).strip(" .")
    room = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
    clash = reserved is not None and cleaned.casefold().startswith(reserved.casefold())
    if cleaned == text and cleaned and len(cleaned.encode("utf-8")) <= room and not clash:
        return cleaned + suffix
    tag = "~" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    kept = cleaned.encode("utf-8")[: room - len(tag)].decode("utf-8", "ignore").rstrip(" .")
    return (kept or "_") + tag + suffix


def packet_path(packet: AgentPacket) -> str:
    name = safe_file_name(packet.file_stem, ".pdf", reserved=SUMMARY_STEM)
    return f"{safe_file_name(packet.period)}/{name}"


def summary_path(summary: TeamSummary, several: bool) -> str:
    name = f"{SUMMARY_STEM}.pdf" if not several else safe_file_name(f"{SUMMARY_STEM}-{summary.policy['name']}", ".pdf")
    return f"{safe_file_name(summary.period)}/{name}"


def _check_unique(pages: list[tuple[str, str]]) -> None:
    """Two pages with one file name (even differing in case only) would overwrite each other."""
    seen: set[str] = set()
    for relative, _ in pages:
        if relative.casefold() in seen:
            raise ReportProblem(f"two packets would be written to the same file {relative}; "
                                "agent ids and names must tell the agents apart")
        seen.add(relative.casefold())


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
    """Jinja's sandbox: a template reads the packet's data and cannot reach Python's
    internals (``''.__class__.__mro__``), call unsafe methods or read other files."""
    from jinja2 import FileSystemLoader, StrictUndefined, TemplateNotFound, select_autoescape
    from jinja2.loaders import split_template_path
    from jinja2.sandbox import SandboxedEnvironment

    class FolderLoader(FileSystemLoader):
        """Regular files inside the folder only: a link pointing elsewhere, a FIFO or a device
        (``{% include 'secret.html' %}`` linked to the salary data) is not found."""

        def get_source(self, environment, template):
            real = Path(os.path.realpath(Path(folder, *split_template_path(template))))  # a loop does not raise
            if not real.is_relative_to(folder) or not real.is_file():
                raise TemplateNotFound(template)
            return super().get_source(environment, template)

    return SandboxedEnvironment(
        loader=FolderLoader(str(folder)),
        autoescape=select_autoescape(enabled_extensions=("html", "htm", "xml"), default=True),
        undefined=StrictUndefined,
    )


def _template_place(error: BaseException, folder: Path) -> str:
    """``agent.html:12``: the template line where ``error`` arose (Jinja puts template
    lines into the traceback), or the file and line a syntax error names."""
    filename, line = getattr(error, "filename", None), getattr(error, "lineno", None)
    for frame, number in traceback.walk_tb(error.__traceback__):
        name = frame.f_code.co_filename
        if Path(name).is_relative_to(folder):
            filename, line = name, number
    if filename is None:
        return type(error).__name__
    return f"{filename}:{line if line is not None else '?'}"


def _template(environment, folder: Path, name: str):
    """``name`` compiled; a syntax error that Jinja's lexer raised without a file name (an
    unclosed ``{#``) is given the template's, so that every error says where it is."""
    from jinja2 import TemplateSyntaxError

    try:
        return environment.get_template(name)
    except TemplateSyntaxError as error:
        if error.filename is None:
            error.filename = str(folder / name)
        raise


def render_html(folder: Path, report: Report, several_policies: bool) -> tuple[list[tuple[str, str]], float]:
    """(relative PDF path, HTML) for every packet and summary; and the seconds it took."""
    started = time.perf_counter()
    environment = template_environment(folder)
    pages = []
    try:
        agent_template = _template(environment, folder, "agent.html")
        team_template = _template(environment, folder, "team.html")
        for packet in report.packets:
            pages.append((packet_path(packet), agent_template.render(packet=packet, t=texts(packet.language))))
        for summary in report.summaries:
            pages.append((summary_path(summary, several_policies),
                          team_template.render(summary=summary, t=texts(summary.language))))
    except Exception as error:  # noqa: BLE001 - any template mistake is the user's, reported with its place
        raise ReportProblem(f"template error at {_template_place(error, folder)}: "
                            f"{type(error).__name__}: {error}") from None
    _check_unique(pages)
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
    times = RenderTimes(templates=template_seconds, files=len(pages))
    with terminate_cleanly():
        staging = None
        try:
            with signals_held():  # a signal between making the staging folder and knowing its name would leak it
                try:
                    output.mkdir(parents=True, exist_ok=True)
                    remove_stale_temporaries(output)
                    staging = Path(tempfile.mkdtemp(prefix=temporary_prefix("report"), dir=output))
                except OSError as error:
                    raise ReportProblem(f"cannot write to {output}: {error.strerror or error}") from None
            jobs = []
            for relative, html in pages:
                target = staging / "new" / relative
                target.parent.mkdir(parents=True, exist_ok=True)
                jobs.append((html, str(target), str(folder)))
            times.layout = _run_layout(jobs, workers, progress)
            written = _move_files(staging, output, [relative for relative, _ in pages])
        except (OSError, BrokenProcessPool) as error:
            reason = getattr(error, "strerror", None) or str(error) or type(error).__name__
            raise ReportProblem(f"the PDF files could not be written to {output}: {reason}; "
                                "nothing was changed") from None
        finally:
            if staging is not None:
                shutil.rmtree(staging, ignore_errors=True)
            if not existed and output.is_dir() and not any(output.iterdir()):
                output.rmdir()
    return written, times


# ---- layout workers ------------------------------------------------------------------------------


def available_cpus() -> int:
    """The cores this process may use: its CPU affinity, capped by the cgroup's CPU quota."""
    try:
        count = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        count = os.cpu_count() or 1
    for quota_file, period_file in (("/sys/fs/cgroup/cpu.max", None),
                                    ("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu/cpu.cfs_period_us")):
        try:
            fields = Path(quota_file).read_text().split()
            if period_file is not None:
                fields.append(Path(period_file).read_text().strip())
            quota, period = fields[0], fields[1]
            if quota not in ("max", "-1") and int(period) > 0:
                count = min(count, math.ceil(int(quota) / int(period)))
            break
        except (OSError, ValueError, IndexError):
            continue
    return max(1, count)


def _worker_start(parent: int) -> None:
    """In each layout worker: die with the parent (Linux ``PR_SET_PDEATHSIG``), even if it is killed,
    and ignore Ctrl-C (the terminal sends it to all of them; the parent stops them)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # 1 = PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def _run_layout(jobs: list[tuple[str, str, str]], workers: int | None, progress: bool) -> float:
    workers = min(workers or available_cpus(), len(jobs))
    if workers <= 1:
        return sum(_layout(job) for job in jobs)
    import multiprocessing

    from rich.console import Console
    from rich.progress import Progress

    total = 0.0
    # Fresh worker processes: a forked copy of a process that holds DuckDB connections is
    # not safe (it can crash when the copy frees them).
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_worker_start,
                               initargs=(os.getpid(),))
    try:
        with Progress(console=Console(stderr=True), transient=True, disable=not progress) as bar:
            task = bar.add_task("PDF", total=len(jobs))
            futures = [pool.submit(_layout, job) for job in jobs]
            for future in as_completed(futures):
                total += future.result()
                bar.advance(task)
    except BaseException:  # a failed page, SIGTERM: stop the other workers now, not after the queue
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return total


# ---- moving the files into place -----------------------------------------------------------------


def _move_files(staging: Path, output: Path, relatives: list[str]) -> list[Path]:
    """Move every rendered file from ``staging/new`` into ``output``: all or nothing.

    Each file is renamed into place (a reader sees the old file or the new one); the file
    it replaces is first hard-linked (or copied) into ``staging/old``.  If any step fails,
    or SIGTERM arrives, the files moved so far are taken back: the old ones return, the
    new ones go, folders made for them are removed.
    """
    for relative in relatives:
        target = output / relative
        if os.path.lexists(target) and not stat.S_ISREG(os.lstat(target).st_mode):
            raise OSError(f"{target} is not a regular file (a link, folder or device); it was left alone")
    done: list[tuple[Path, Path | None]] = []
    made: list[Path] = []
    try:
        for relative in relatives:
            target = output / relative
            if not target.parent.is_dir():
                target.parent.mkdir(parents=True)
                made.append(target.parent)
            kept = None
            if os.path.lexists(target):
                kept = staging / "old" / relative
                kept.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.link(target, kept)
                except OSError:
                    shutil.copy2(target, kept)
                os.chmod(staging / "new" / relative, stat.S_IMODE(os.stat(target).st_mode))
            os.replace(staging / "new" / relative, target)
            done.append((target, kept))
    except BaseException:
        with signals_held():
            for target, kept in reversed(done):
                try:
                    if kept is None:
                        os.unlink(target)
                    else:
                        os.replace(kept, target)
                except OSError:
                    pass
            for folder in reversed(made):
                try:
                    folder.rmdir()
                except OSError:
                    pass
        raise
    return [target for target, _ in done]

