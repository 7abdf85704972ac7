"""OCR throughput: the job's OCR path against the `ocrmypdf` command on the same pages with the same settings.

A few A5 pages of French text, rendered with Pillow (DejaVu Sans) at 150 dpi and put in a PDF with img2pdf,
as a scanner would give them. Each round times both sides on that file, taking turns (which goes first
alternates): the command (`ocrmypdf` of this environment, with courrier.search.ocr.options: the same
language, output type, optimisation, mode and jobs count) and the job's path, courrier.search.text_jobs.recognise:
the page count, the same ocrmypdf run (a child process, under OCR_TIMEOUT) and the text read back from the
searchable PDF. The ratio is the job's pages per second over the command's (goal ≥ 0.9×); the same ratio
from CPU time (this process's and its children's) is printed beside it, steadier on a shared machine.
"""
import io
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from bench.scenarios import Goal, Section, log

PAGES = 3
GOAL_RATIO = 0.9
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
LINES = [
    "Mairie de Saint-Étienne-du-Rouvray",
    "Objet : Réclamation concernant la facture d'eau",
    "Monsieur le Maire,",
    "J'ai l'honneur de contester la facture reçue le 12 février,",
    "dont le montant dépasse très largement ma consommation",
    "habituelle. Je vous prie de bien vouloir faire vérifier",
    "le compteur et me communiquer le relevé détaillé.",
    "Veuillez agréer l'expression de mes salutations distinguées.",
    "Jean-François Dupré, 14 rue des Écoles",
]


def make_scan(path, pages=PAGES):
    """A PDF of `pages` images of French text (A5 at 150 dpi), as a scanner makes them."""
    import img2pdf
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.truetype(FONT, 22) if os.path.exists(FONT) else ImageFont.load_default(22)
    images = []
    for number in range(pages):
        page = Image.new("L", (874, 1240), 255)
        draw = ImageDraw.Draw(page)
        for line_number, line in enumerate(LINES + [f"Page {number + 1} sur {pages}"]):
            draw.text((70, 90 + 60 * line_number), line, font=font, fill=0)
        buffer = io.BytesIO()
        page.save(buffer, "PNG", dpi=(150, 150))
        images.append(buffer.getvalue())
    with open(path, "wb") as handle:
        handle.write(img2pdf.convert(images))


def reference_command():
    """The `ocrmypdf` command of this environment (the one courrier's job starts as a module)."""
    beside = os.path.join(os.path.dirname(sys.executable), "ocrmypdf")
    return [beside] if os.path.exists(beside) else [shutil.which("ocrmypdf") or "ocrmypdf"]


def cpu_seconds():
    """CPU time of this process and its finished children (ocrmypdf, Tesseract, Ghostscript)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(run):
    """(wall seconds, CPU seconds) of `run()`: the CPU time is steadier on a shared machine."""
    wall, cpu = time.perf_counter(), cpu_seconds()
    run()
    return time.perf_counter() - wall, cpu_seconds() - cpu


def scenario_ocr(ctx):
    from courrier.search import extraction, ocr, text_jobs

    settings = ocr.Settings(languages=os.environ.get("OCR_LANGUAGES", ocr.DEFAULT_LANGUAGES))
    section = Section(f"OCR — {PAGES} scanned pages, the job's path vs the ocrmypdf command "
                      f"({' '.join(ocr.options(settings))})")
    try:
        ocr.available(settings)
    except ocr.OcrUnavailable as reason:
        section.skipped = str(reason)
        return section
    rounds = max(1, ctx.options.rounds)
    command_rates, job_rates, cpu_ratios = [], [], []
    workdir = tempfile.mkdtemp(prefix="courrier-bench-ocr-")
    try:
        scan = os.path.join(workdir, "scan.pdf")
        make_scan(scan)

        def run_command():
            subprocess.run([*reference_command(), *ocr.options(settings), scan, os.path.join(workdir, "cmd.pdf")],
                           check=True, stdin=subprocess.DEVNULL)

        def run_job():
            folder = tempfile.mkdtemp(dir=workdir)
            outcome, searchable = text_jobs.recognise(scan, extraction.Outcome(extraction.SCAN), folder, settings)
            if outcome.etat != "reconnu" or "Réclamation" not in outcome.texte or searchable is None:
                raise RuntimeError(f"OCR in the job's path gave {outcome.etat}: {outcome.motif}")

        run_command(), run_job()  # warm the disk cache and Python's imports of both
        for round_index in range(rounds):
            sides = [("command", run_command), ("job", run_job)]
            if round_index % 2:
                sides.reverse()
            measured = {name: timed(run) for name, run in sides}
            (command_wall, command_cpu), (job_wall, job_cpu) = measured["command"], measured["job"]
            command_rates.append(PAGES / command_wall)
            job_rates.append(PAGES / job_wall)
            cpu_ratios.append(command_cpu / job_cpu)
            log(f"  round {round_index + 1}/{rounds}: command {command_wall:.2f} s ({command_cpu:.2f} s CPU), "
                f"job {job_wall:.2f} s ({job_cpu:.2f} s CPU): {command_wall / job_wall:.2f}× "
                f"({cpu_ratios[-1]:.2f}× by CPU)")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ratios = [job / command for job, command in zip(job_rates, command_rates)]
    section.goals.append(Goal("OCR pages/s, job's path vs the ocrmypdf command", ratios, GOAL_RATIO,
                              cpu_values=cpu_ratios))
    section.facts.append(("pages/s, command (median)", f"{sorted(command_rates)[len(command_rates) // 2]:.2f}"))
    section.facts.append(("pages/s, job's path (median)", f"{sorted(job_rates)[len(job_rates) // 2]:.2f}"))
    return section
