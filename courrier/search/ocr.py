"""OCR of scans: ocrmypdf (Tesseract, Ghostscript) makes a searchable PDF beside the original, and its text.

ocrmypdf runs as a child process (`python -m ocrmypdf` of this environment, else the `ocrmypdf` command):
its memory is its own, OCR_TIMEOUT kills it and its Tesseract children (a session of their own), and it
sees only a few environment variables (none of courrier's secrets). Images (PNG, JPEG, TIFF) become a PDF
with img2pdf first (their pixels untouched); a scan's first MAX_OCR_PAGES pages are recognised.

Settings (`options`, shared with bench/ocr.py, which compares this with the command itself):
- `--output-type pdf`, not PDF/A: the original is the file kept for the record, the searchable PDF is a
  reading aid; PDF/A would cost a Ghostscript pass per file and may re-encode images.
- `--optimize 0`: no image recompression (slow, lossy above 1, and the PDF is not the archive);
  `--fast-web-view` off (linearising rewrites the file; pdf.js reads it by ranges anyway).
- `--mode skip`: pages that already have text are kept as they are, the others recognised.
- `--jobs 1`: the workers already run JOBS_WORKERS jobs at once; one OCR does not take every core.

Without Tesseract, Ghostscript or ocrmypdf (`available()`, checked once per process) a scan's text is
`indisponible` and everything else works.
"""
import functools
import importlib.util
import logging
import os
import re
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass

log = logging.getLogger(__name__)

MAX_OCR_PAGES = 100
DEFAULT_LANGUAGES = "fra"
DEFAULT_TIMEOUT = 600
LANGUAGES = re.compile(r"^[A-Za-z_]+(\+[A-Za-z_]+)*$")
# What the child process may see of the worker's environment.
PASSED_ENVIRONMENT = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "TESSDATA_PREFIX", "OMP_THREAD_LIMIT")
STDERR_KEPT = 2000

NOT_INSTALLED = ("La reconnaissance de texte (OCR) n'est pas installée sur le serveur : le texte de ce scan "
                 "n'est pas lu.")
LANGUAGE_MISSING = ("La langue de reconnaissance {languages} n'est pas installée pour Tesseract sur le serveur : "
                    "le texte de ce scan n'est pas lu.")
TIMED_OUT = "La reconnaissance du texte a dépassé le temps permis ({seconds} s) : le texte de ce scan n'est pas lu."
FAILED = "La reconnaissance du texte a échoué sur ce fichier."
ENCRYPTED = "Le PDF est protégé par un mot de passe : son texte ne peut pas être lu."
BAD_INPUT = "Le fichier est illisible ou endommagé : son texte ne peut pas être reconnu."
BAD_IMAGE = "L'image est illisible ou endommagée : son texte ne peut pas être reconnu."
PAGES_CUT = "Seules les {limit} premières pages ont été reconnues."
# ocrmypdf's exit codes that say something about the file.
EXIT_REASONS = {2: BAD_INPUT, 8: ENCRYPTED}
EXIT_MISSING_DEPENDENCY = 3


class OcrUnavailable(Exception):
    """No OCR engine here (or not for the configured language): its French reason."""


class OcrFailed(Exception):
    """OCR of this file failed, and trying again would fail the same way: its French reason."""


@dataclass(frozen=True)
class Settings:
    languages: str = DEFAULT_LANGUAGES
    timeout: int = DEFAULT_TIMEOUT
    jobs: int = 1

    @classmethod
    def from_config(cls, config):
        languages = config.get("OCR_LANGUAGES") or DEFAULT_LANGUAGES
        if not LANGUAGES.match(languages):  # never an option in disguise (`--…`)
            raise OcrUnavailable(LANGUAGE_MISSING.format(languages=languages[:40]))
        return cls(languages, int(config.get("OCR_TIMEOUT") or DEFAULT_TIMEOUT))


def options(settings, pages=None):
    """ocrmypdf's options here: the same for the job and for the bench's reference command."""
    chosen = ["--language", settings.languages, "--output-type", "pdf", "--optimize", "0", "--mode", "skip",
              "--fast-web-view", "999999", "--jobs", str(settings.jobs), "--quiet"]
    if pages is not None:
        chosen += ["--pages", f"1-{pages}"]
    return chosen


@functools.cache
def command():
    """How to start ocrmypdf here, or None: its module in this environment, else the system's command."""
    if importlib.util.find_spec("ocrmypdf") is not None:
        return (sys.executable, "-m", "ocrmypdf")
    found = shutil.which("ocrmypdf")
    return (found,) if found else None


@functools.cache
def installed_languages():
    """Tesseract's languages (`tesseract --list-langs`), or None when Tesseract or Ghostscript is missing."""
    tesseract = shutil.which("tesseract")
    if tesseract is None or shutil.which("gs") is None:
        return None
    try:
        listing = subprocess.run([tesseract, "--list-langs"], capture_output=True, text=True, timeout=30,
                                 env=child_environment())
    except (OSError, subprocess.SubprocessError):
        return None
    return frozenset(line.strip() for line in listing.stdout.splitlines()[1:] if line.strip())


def available(settings):
    """Raise OcrUnavailable (with its French reason) unless OCR can run here in `settings.languages`."""
    languages = installed_languages()
    if command() is None or languages is None:
        raise OcrUnavailable(NOT_INSTALLED)
    if not set(settings.languages.split("+")) <= languages:
        raise OcrUnavailable(LANGUAGE_MISSING.format(languages=settings.languages))


def child_environment():
    return {name: os.environ[name] for name in PASSED_ENVIRONMENT if name in os.environ}


def image_to_pdf(image_path, pdf_path):
    """A PDF of the image's pages (a TIFF may hold several), the pixels as they are; an alpha channel flattened."""
    import img2pdf  # an ocrmypdf dependency, loaded only for a scan
    from PIL import Image

    try:
        try:
            data = img2pdf.convert(image_path, rotation=img2pdf.Rotation.ifvalid)
        except img2pdf.AlphaChannelError:
            data = img2pdf.convert(_flattened(image_path, pdf_path + ".png"))
    except (img2pdf.ImageOpenError, Image.DecompressionBombError, OSError, ValueError, SyntaxError,
            ArithmeticError) as error:
        log.warning("OCR: image not converted to PDF (%s)", type(error).__name__)
        raise OcrFailed(BAD_IMAGE) from None
    with open(pdf_path, "wb") as output:
        output.write(data)


def _flattened(image_path, png_path):
    from PIL import Image

    with Image.open(image_path) as image:
        image.convert("RGB").save(png_path)
    return png_path


def make_searchable(pdf_path, output_path, settings, page_count):
    """Run ocrmypdf on `pdf_path` into `output_path`; the French note when only the first pages were read.

    OcrFailed for a file ocrmypdf cannot read or a run over the timeout (trying again would do the same),
    OcrUnavailable when ocrmypdf says a dependency is missing.
    """
    available(settings)
    cut = page_count > MAX_OCR_PAGES
    argv = [*command(), *options(settings, MAX_OCR_PAGES if cut else None), pdf_path, output_path]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               env=child_environment(), start_new_session=True)
    try:
        _, stderr = process.communicate(timeout=settings.timeout)
    except subprocess.TimeoutExpired:
        _kill_group(process)
        log.warning("OCR: ocrmypdf stopped after %s s", settings.timeout)
        raise OcrFailed(TIMED_OUT.format(seconds=settings.timeout)) from None
    except BaseException:
        _kill_group(process)
        raise
    if process.returncode != 0:
        # Its message may name a path: logged for the operator, a French reason for users.
        log.warning("OCR: ocrmypdf exited with %s: %s", process.returncode,
                    stderr.decode("utf-8", "replace")[-STDERR_KEPT:])
        if process.returncode == EXIT_MISSING_DEPENDENCY:
            raise OcrUnavailable(NOT_INSTALLED)
        raise OcrFailed(EXIT_REASONS.get(process.returncode, FAILED))
    return PAGES_CUT.format(limit=MAX_OCR_PAGES) if cut else None


def _kill_group(process):
    """ocrmypdf and every process it started (its session), then its pipe read to the end and closed."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        process.communicate(timeout=10)
    except subprocess.TimeoutExpired:  # a grandchild that left the session still holds the pipe
        process.stderr.close()
        process.wait()


def image_pages(image_path):
    """How many pages an image has (a TIFF's frames), read by Pillow without decoding them."""
    from PIL import Image

    try:
        with Image.open(image_path) as image:
            return getattr(image, "n_frames", 1)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise OcrFailed(BAD_IMAGE) from None
