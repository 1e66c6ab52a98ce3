"""Source documents: load them with their metadata and cut them into citable passages.

A document is Markdown with YAML front matter (the curated corpus), plain text or a PDF. Metadata
that a file does not carry is guessed from its content or file name, and `Document.guessed` says
which fields were guessed so the user can be told. Chunking follows the document's own structure
so that every passage keeps the section path of CONVENTIONS.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import frontmatter
import yaml

DOC_TYPES = ("brief", "wet", "nieuws")
SUFFIXES = {".md": "markdown", ".markdown": "markdown", ".txt": "text", ".pdf": "pdf"}
MONTHS = (
    "januari februari maart april mei juni juli augustus september oktober november december".split()
)


class DocumentError(Exception):
    """A document that cannot be read; the message is one line that names the file."""

    def __init__(self, path, message: str):
        self.path = Path(path)
        self.message = message
        super().__init__(f"{self.path.name}: {message}")


@dataclass
class Document:
    doc_id: str
    title: str
    doc_type: str
    date: str  # ISO date; for a law text its version date; "" when unknown
    source: str | None
    caveat: str | None
    completeness: str | None
    version_date: str | None
    path: Path
    text: str  # Markdown body, plain text, or the PDF's pages joined by blank lines
    guessed: list[str] = field(default_factory=list)
    pages: list[str] | None = None  # PDF only: the text of each page, page 1 first

    @property
    def note(self) -> str | None:
        """The caveat a citation of this document must carry."""
        if (self.completeness or "").lower().startswith("partial"):
            return "tekst onvolledig"
        if self.doc_type == "wet" and self.version_date:
            return f"wettekst, versie {dutch_date(self.version_date)}"
        return None


@dataclass
class Chunk:
    chunk_id: str
    doc_id: str
    section: str
    text: str
    page: int | None
    position: int  # order within the document


@dataclass(frozen=True)
class Asked:
    """Questions people ask that one sentence of a document answers, found by a verbatim phrase of it.

    The law says "van zelfstandige in onzelfstandige woonruimte om te zetten", people ask "mag ik een pand
    in kamers opdelen?": the index matches a question to these as well as to the passage's own words
    (doc2query). They hold no answer, only where it stands; written from the documents, never from
    evaluation cases.
    """

    doc_id: str
    anchor: str  # a phrase of the answering sentence, as it stands in the document
    questions: tuple[str, ...]


def load_questions(folder: Path) -> tuple[list[Asked], list[str]]:
    """Every `<doc_id>.yaml` under `folder`: the entries, and one error line per unusable file or entry."""
    entries, errors = [], []
    for path in sorted(Path(folder).glob("*.yaml")) if Path(folder).is_dir() else []:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        except (yaml.YAMLError, UnicodeDecodeError) as e:
            errors.append(f"{path.name}: not readable YAML ({str(e).splitlines()[0]})")
            continue
        for n, entry in enumerate(data if isinstance(data, list) else [None], 1):
            questions = entry.get("questions") if isinstance(entry, dict) else None
            if not (isinstance(questions, list) and questions and isinstance(entry.get("anchor"), str)
                    and all(isinstance(q, str) and q.strip() for q in questions)):
                errors.append(f"{path.name}: entry {n} needs an anchor and a list of questions")
                continue
            entries.append(Asked(str(entry.get("doc") or path.stem), clean(entry["anchor"]),
                                 tuple(" ".join(q.split()) for q in questions)))
    return entries, errors


def dutch_date(iso: str) -> str:
    """`2015-10-12` -> `12 oktober 2015`."""
    d = dt.date.fromisoformat(iso)
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


# --- loading ----------------------------------------------------------------------------------


def load_document(path) -> Document:
    """Read one file; raise DocumentError (one line, naming the file) for anything unusable."""
    path = Path(path)
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise DocumentError(
            path, f"unsupported file type {path.suffix or '(none)'!r}; use .md, .txt or .pdf"
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise DocumentError(path, f"cannot read file ({e.strerror or e})") from None
    if not data.strip():
        raise DocumentError(path, "file is empty")
    pages = None
    meta: dict = {}
    pdf_meta: dict = {}
    if kind == "pdf":
        pages, pdf_meta = _read_pdf(path, data)
        text = "\n\n".join(pages)
    else:
        text = _decode(path, data)
        if kind == "markdown" or text.startswith("---"):
            meta, text = _front_matter(path, text)
    if not text.strip():
        raise DocumentError(path, "document has no text")
    return _document(path, meta, text, pages, pdf_meta)


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise DocumentError(
            path, f"not UTF-8 text (byte 0x{data[e.start]:02x} at offset {e.start}); save it as UTF-8"
        ) from None
    if "\x00" in text:
        raise DocumentError(path, "binary data in a text file")
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _front_matter(path: Path, text: str) -> tuple[dict, str]:
    handler = frontmatter.YAMLHandler()
    if not handler.detect(text):
        return {}, text
    try:
        raw, body = handler.split(text)
        meta = yaml.safe_load(raw)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 2})" if mark else ""  # +1 for 0-based, +1 for the opening ---
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise DocumentError(path, f"bad front matter{where}: {problem}") from None
    except ValueError:
        return {}, text  # an opening --- without a closing one: a rule, not front matter
    if meta is None:
        return {}, body
    if not isinstance(meta, dict):
        raise DocumentError(path, "bad front matter: expected key: value pairs")
    return meta, body


def _read_pdf(path: Path, data: bytes) -> tuple[list[str], dict]:
    import io

    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise DocumentError(path, "PDF is encrypted (password protected); save an unprotected copy")
        pages = [(page.extract_text() or "").strip() for page in reader.pages]
        info = reader.metadata or {}
        pdf_meta = {
            "title": str(info.get("/Title") or "").strip(),
            "date": str(info.get("/CreationDate") or ""),
        }
    except DocumentError:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, NotImplementedError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        if "cryptography" in reason or "AES" in reason:
            reason = "PDF is encrypted"
        raise DocumentError(path, f"unreadable PDF ({reason})") from None
    if not any(pages):
        raise DocumentError(path, "PDF has no extractable text (scanned images?)")
    return pages, pdf_meta


def _iso(value, path: Path, key: str) -> str | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    try:
        return dt.date.fromisoformat(str(value).strip()).isoformat()
    except ValueError:
        raise DocumentError(path, f"bad front matter: {key} {value!r} is not a date (YYYY-MM-DD)") from None


def _document(path: Path, meta: dict, text: str, pages, pdf_meta: dict) -> Document:
    guessed = []
    date = _iso(meta.get("date"), path, "date")
    version_date = _iso(meta.get("version_date"), path, "version_date")
    doc_type = meta.get("type")
    if doc_type is not None and doc_type not in DOC_TYPES:
        raise DocumentError(
            path, f"bad front matter: type {doc_type!r} is not one of {', '.join(DOC_TYPES)}"
        )
    title = str(meta.get("title") or pdf_meta.get("title") or "").strip()
    if not title:
        title = _guess_title(path, text)
        guessed.append("title")
    if not doc_type:
        doc_type = _guess_type(text)
        guessed.append("type")
    if not date and not version_date:
        date = _guess_date(path, text, pdf_meta)
        guessed.append("date")
    return Document(
        doc_id=path.stem,
        title=title,
        doc_type=doc_type,
        date=date or version_date or "",
        source=_str(meta.get("source")),
        caveat=_str(meta.get("caveat")),
        completeness=_str(meta.get("completeness")),
        version_date=version_date,
        path=path,
        text=text,
        guessed=guessed,
        pages=pages,
    )


def _str(value) -> str | None:
    return None if value is None else str(value)


def _guess_title(path: Path, text: str) -> str:
    m = re.search(r"^#{1,2}\s*(.+?)\s*#*$", text, re.M)
    if m:
        return clean(m.group(1))
    m = re.search(r"^Onderwerp:?\s+(.{5,200})$", text, re.M)
    if m:
        return clean(m.group(1))
    for line in text.splitlines():
        line = clean(line)
        if 3 <= len(line) <= 120 and re.search(r"[A-Za-zÀ-ÿ]{3}", line):
            return line
    name = re.sub(r"^\d{4}-\d{2}-\d{2}[_ -]*", "", path.stem)
    return name.replace("_", " ").replace("-", " ").strip().capitalize() or path.stem


def _guess_type(text: str) -> str:
    if re.search(r"^\W*Artikel\s+\d+", text, re.M) and re.search(r"\bwet\b", text, re.I):
        return "wet"
    if re.search(r"^\s*(Geachte|Aan de)\b", text, re.M):
        return "brief"
    return "nieuws"


def _guess_date(path: Path, text: str, pdf_meta: dict) -> str:
    m = re.match(r"(\d{4}-\d{2}-\d{2})", path.stem)
    candidates = [m.group(1)] if m else []
    months = "|".join(MONTHS)
    for m in re.finditer(rf"\b(\d{{1,2}})\s+({months})\s+(\d{{4}})\b", text[:5000], re.I):
        candidates.append(f"{m.group(3)}-{MONTHS.index(m.group(2).lower()) + 1:02d}-{int(m.group(1)):02d}")
    candidates += re.findall(r"\b(\d{4}-\d{2}-\d{2})\b", text[:5000])
    m = re.match(r"D:(\d{4})(\d{2})(\d{2})", pdf_meta.get("date", ""))
    if m:
        candidates.append("-".join(m.groups()))
    for c in candidates:
        try:
            return dt.date.fromisoformat(c).isoformat()
        except ValueError:
            continue
    return ""


def clean(text: str) -> str:
    """Text without Markdown headings, emphasis, footnote markers or extra whitespace."""
    text = re.sub(r"<sup>.*?</sup>", "", text)
    text = re.sub(r"^\s*#+", "", text)
    text = text.replace("**", "").replace("*", "")
    return " ".join(text.split())


# --- chunking ---------------------------------------------------------------------------------

MAX_CHARS = 1000  # about 250 e5 tokens: one passage stays well inside the model's 512-token window
SEP = " › "

_MD_HEADING = re.compile(r"^ {0,3}(#{1,6})\s*(.*?)\s*#*\s*$")
_LAW = [  # (level, pattern) for the structure of a law text
    (1, re.compile(r"^(hoofdstuk|titel)\s+\w+\b", re.I)),
    (2, re.compile(r"^(§|paragraaf)\s*\d+\w*\b", re.I)),
    (3, re.compile(r"^artikel\s+\d+\w*\b", re.I)),
]
_BARE_LAW = re.compile(r"^(Hoofdstuk|§|Paragraaf|Artikel)\s*\d+[a-z]?(\s+[^.;:]{0,80})?$")
_BOLD = re.compile(r"^\*\*([^*].*?)\*\*:?$")
_ITALIC = re.compile(r"^[*_]([^*_].*?)[*_]:?$")
_ITEM = re.compile(r"^\s*(\d{1,3}[.)]|[a-z][.)]|[-•*+]\s)\s*\S")
_FOOTNOTE = re.compile(r"^\s*<sup>\s*(\w{1,4})\s*</sup>\s*(\S.*)$")
_RULE = re.compile(r"^\s*([-*_])(\s*\1){2,}\s*$")
_BOILERPLATE = re.compile(
    r"^\s*(retouradres\b|postbus\s+\d+|(?-i:\d{4}\s?[A-Z]{2}\s+[A-Z]\S*)|pagina\s+\d+(\s+van\s+\d+)?$|\d{1,3}$|"
    r"(\[)?(https?://|www\.)\S+$|(ons|uw) kenmerk\b|bij beantwoording|kenmerk$|t\s+\+?\d[\d\s-]+$)",
    re.I,
)
_TERMINAL = re.compile(r"[.!?:;]\W*$")
_DEFINITION = re.compile(r"^[a-z][.)]\s+\*([^*:]{1,60}):?\*:?\s", re.M)
_CLOSING = re.compile(r"^\s*(Met vriendelijke groet|Hoogachtend|Met (de meeste )?hoogachting|Kind regards)\b", re.I)


@dataclass
class _Block:
    section: tuple[str, ...]
    text: str
    page: int | None
    footnote: str | None = None  # label when the block is a footnote's text
    closing: bool = False  # a letter's closing formula: signatures and annexes start a passage
    alone: bool = False  # one definition of a list of definitions: a passage of its own


def chunk_document(doc: Document) -> list[Chunk]:
    """Cut a document into passages along its own headings, articles and list items.

    Each passage carries its section path (CONVENTIONS.md) and the footnotes it refers to,
    and is at most about MAX_CHARS long so one sentence match is not drowned in a long section.
    """
    blocks = _blocks(doc)
    notes = {b.footnote: b.text for b in blocks if b.footnote}
    referenced = set()
    chunks: list[Chunk] = []
    seen: set[str] = set()
    for section, page, text in _pack([b for b in blocks if not b.footnote]):
        labels = [n for n in re.findall(r"<sup>\s*(\w{1,4})\s*</sup>", text) if n in notes]
        referenced.update(labels)
        text = "\n\n".join([text] + [notes[n] for n in dict.fromkeys(labels)])
        chunks.append(_chunk(doc, section, text, page, len(chunks), seen))
    for block in blocks:  # a footnote nobody refers to still is part of the document
        if block.footnote and block.footnote not in referenced:
            chunks.append(_chunk(doc, block.section, block.text, block.page, len(chunks), seen))
    return chunks


def section_path(section: tuple[str, ...]) -> str:
    return SEP.join(section) or "Inleiding"


def _chunk(doc, section, text, page, position, seen) -> Chunk:
    path = section_path(section)
    digest = hashlib.sha1(f"{doc.doc_id}\n{path}\n{text}".encode()).hexdigest()[:10]
    slug = re.sub(r"[^a-z0-9]+", "-", clean(section[-1] if section else "inleiding").lower())
    chunk_id = f"{doc.doc_id}#{slug.strip('-')[:40]}#{digest}"
    n = 2
    while chunk_id in seen:  # the same text twice in one section
        chunk_id = f"{chunk_id.rsplit('~', 1)[0]}~{n}"
        n += 1
    seen.add(chunk_id)
    return Chunk(chunk_id, doc.doc_id, path, text, page, position)


def _lines(doc: Document):
    """(page, line) pairs with letterheads, page furniture and rules replaced by None (a break)."""
    pages = doc.pages or [doc.text]
    repeated = _repeated_lines(pages) if doc.pages else set()
    for number, page_text in enumerate(pages, start=1):
        lines = page_text.split("\n")
        if number == 1:
            lines = _without_letterhead(lines)
        for line in lines:
            line = re.sub(r"^\s*>\s?", "", line).rstrip()
            if _RULE.match(line) or _BOILERPLATE.match(line) or _norm(line) in repeated:
                yield None
            else:
                yield (number if doc.pages else None), line
        yield None


def _without_letterhead(lines: list[str]) -> list[str]:
    """Drop the letterhead (sender, addresses, reference) above a letter's salutation."""
    for i, line in enumerate(lines[:120]):
        if re.match(r"^\s*(Geachte|Beste|Dear)\b", line):
            return lines[i:]
    return lines


def _norm(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.split())).lower()


def _repeated_lines(pages: list[str]) -> set[str]:
    """Running headers and footers: the same first or last lines (digits aside) on most pages."""
    if len(pages) < 3:
        return set()
    counts: dict[str, int] = {}
    for page in pages:
        lines = [line for line in page.split("\n") if len(line.strip()) > 2]
        for line in {_norm(line) for line in lines[:2] + lines[-2:] if not _BARE_LAW.match(line.strip())}:
            counts[line] = counts.get(line, 0) + 1
    return {line for line, n in counts.items() if n >= max(3, (len(pages) + 1) // 2)}


def _heading(line: str, bare: bool) -> tuple[str, int, str] | None:
    """Classify a heading line as (style, level, text); levels follow CONVENTIONS.md."""
    m = _MD_HEADING.match(line)
    if m:
        hashes, body = len(m.group(1)), m.group(2).strip()
        if not body:
            return None
    else:
        body, hashes = line.strip(), 0
        # a line of its own is a heading only if it is short and no sentence: "**Tot slot**"
        sentence = len(body) > 120 or body.rstrip("*_ ").endswith(".")
        if (bare or sentence) and not _BARE_LAW.match(body):
            return None
    text = clean(body).rstrip(":")
    if not text:
        return None
    for level, pattern in _LAW:
        if pattern.match(text) and (hashes or _BARE_LAW.match(body)):
            return "law", level, text
    if _BOLD.match(body):
        return "bold", 1, text
    if _ITALIC.match(body):
        return "italic", 2, text
    if hashes:
        return "plain", max(1, hashes - 1), text
    return None


def _blocks(doc: Document) -> list[_Block]:
    bare = doc.pages is not None or doc.path.suffix.lower() == ".txt"
    stack: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    current: _Block | None = None
    pending_title = False  # a law's "Hoofdstuk 5" takes the title on the next heading line
    broke = False  # a page break, rule or footnote interrupted the running text
    seen_text = False

    def section():
        return tuple(text for _, text in stack)

    for item in _lines(doc):
        if item is None:
            current, broke = None, True
            continue
        page, line = item
        if not line.strip():
            current = None
            continue
        heading = None if (current and current.footnote) else _heading(line, bare)
        if heading:
            style, level, text = heading
            current, broke = None, False
            if pending_title and style == "plain":
                stack[-1] = (stack[-1][0], f"{stack[-1][1]} {text}")
                pending_title = False
                continue
            pending_title = style == "law" and level < 3
            if not seen_text and not stack and style == "plain" and _is_title(doc, line, text):
                continue
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, text))
            continue
        pending_title = False
        seen_text = True
        note = _FOOTNOTE.match(line) if not doc.pages else None
        if note:
            current = _Block(section(), line.strip(), page, footnote=note.group(1))
            blocks.append(current)
            broke = True
            continue
        if current and current.footnote and not broke:
            current.text += "\n" + line.strip()
            continue
        if current is None and broke and _continues(blocks, section(), line):
            current = next(b for b in reversed(blocks) if not b.footnote)
            current.text += "\n" + line.strip()  # a line break keeps every line verbatim
        elif current is None or _ITEM.match(line) or current.footnote:
            current = _Block(section(), line.strip(), page, closing=bool(_CLOSING.match(line)))
            blocks.append(current)
        else:
            current.text += "\n" + line.strip()
        broke = False
    return blocks


def _is_title(doc: Document, line: str, text: str) -> bool:
    """The first heading is the document's own title, not a section (a news item's `# Title`)."""
    hashes = len(_MD_HEADING.match(line).group(1)) if _MD_HEADING.match(line) else 0
    a, b = text.lower(), doc.title.lower()
    return hashes == 1 or doc.doc_type == "wet" or a in b or b in a


def _continues(blocks: list[_Block], section, line: str) -> bool:
    """A paragraph cut by a page break or footnotes goes on after it (no full stop yet)."""
    previous = next((b for b in reversed(blocks) if not b.footnote), None)
    return (
        previous is not None
        and previous.section == section
        and not _TERMINAL.search(clean(previous.text))
        and not _ITEM.match(line)
    )


def defined_term(text: str) -> str | None:
    """The (first) term a passage defines (`e. *taakstelling:* aantal …` -> `taakstelling`)."""
    m = _DEFINITION.search(text)
    return m.group(1).strip() if m else None


def _mark_definitions(blocks: list[_Block]):
    """In a list of definitions (`a. *term:* …`, four or more) each definition stands alone,
    so "what is a woningmarktregio?" finds the one passage that defines it."""
    run: list[_Block] = []
    for block in blocks + [_Block((), "", None)]:
        if _DEFINITION.match(block.text) and (not run or run[0].section == block.section):
            run.append(block)
            continue
        if len(run) >= 4:
            for member in run:
                member.alone = True
        run = [block] if _DEFINITION.match(block.text) else []


def _pack(blocks: list[_Block]):
    """Greedy packing of consecutive blocks of one section into passages of <= MAX_CHARS."""
    _mark_definitions(blocks)
    parts: list[_Block] = []
    for block in blocks:
        parts.extend(_split_long(block))
    group: list[_Block] = []
    for block in parts:
        size = sum(len(b.text) + 2 for b in group) + len(block.text)
        # a short tail may overflow a little rather than become a passage of its own
        full = size > MAX_CHARS and (len(block.text) > MAX_CHARS // 4 or size > MAX_CHARS * 1.3)
        lead_in = group and group[-1].text.rstrip().endswith(":")  # "… wordt verstaan onder:"
        alone = (block.alone and not lead_in) or (group and group[-1].alone)
        if group and (block.section != group[0].section or full or block.closing or alone):
            yield group[0].section, group[0].page, "\n\n".join(b.text for b in group)
            group = []
        group.append(block)
    if group:
        yield group[0].section, group[0].page, "\n\n".join(b.text for b in group)


def _split_long(block: _Block) -> list[_Block]:
    """Cut an over-long block between sentences, keeping its line breaks (quotes stay verbatim)."""
    if len(block.text) <= MAX_CHARS:
        return [block]
    if block.alone:
        return [block]  # a definition is not cut, however long
    out, piece = [], ""
    for line in block.text.split("\n"):
        for i, sentence in enumerate(sentences(line)):
            if piece and len(piece) + len(sentence) + 1 > MAX_CHARS:
                out.append(_Block(block.section, piece, block.page))
                piece = ""
            piece = f"{piece}{' ' if i else chr(10)}{sentence}" if piece else sentence
    if piece:
        out.append(_Block(block.section, piece, block.page))
    return out


_ABBREVIATIONS = {
    "ca", "jl", "nr", "art", "bijv", "o.a", "e.d", "resp", "zgn", "mr", "dr", "dhr", "mevr", "vs", "e.g", "i.e", "etc"
}


def running_text(text: str) -> str:
    """The text without its footnote lines ("<sup>4</sup> Kamerstukken II, …"): the running text that a page's
    footnotes interrupt, in which a sentence broken by a page break reads whole (CONVENTIONS.md, Quotes)."""
    return "\n".join(line for line in text.splitlines() if not _FOOTNOTE.match(line))


def _joined_lines(text: str) -> list[str]:
    """The text's lines, a line that ends mid-sentence joined with the next that goes on in lower case
    ("… in het geval de jongere kiest" / "voor verlengde opvang."); a list item stays a line of its own."""
    lines: list[str] = []
    for line in re.split(r"\n+", text):
        if lines and not _TERMINAL.search(lines[-1]) and re.match(r"[a-zà-ÿ]", line.lstrip()) and not _ITEM.match(line):
            lines[-1] = f"{lines[-1].rstrip()} {line.strip()}"
        else:
            lines.append(line)
    return lines


def sentences(text: str) -> list[str]:
    """Split raw text into sentences (and list items); Dutch abbreviations do not end one."""
    out = []
    for line in _joined_lines(text):
        start = 0
        for m in re.finditer(r"[.!?](?:<sup>[^<]*</sup>|\*+|[)\"'”’])*\s+(?=[\"'“‘(*]*[A-ZÀ-Ý])", line):
            word = re.search(r"([\w.]+)[.!?]\W*$", line[start : m.start() + 1])
            if word and word.group(1).lower().rstrip(".") in _ABBREVIATIONS:
                continue
            if re.fullmatch(r"\s*(\d{1,3}|[a-z])[.)]", line[start : m.start() + 1]):
                continue  # a list item's number is not a sentence
            out.append(line[start : m.end()].strip())
            start = m.end()
        if line[start:].strip():
            out.append(line[start:].strip())
    return out
