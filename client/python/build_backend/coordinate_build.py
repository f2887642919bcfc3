"""In-tree PEP 517 / PEP 660 build backend for the ``coordinate`` package.

It needs nothing beyond the standard library, so ``pip install client/python`` works offline
(pyproject.toml has ``requires = []``: pip's isolated build environment installs nothing).

The ``[project]`` table of pyproject.toml is the single source of the name, version,
description, dependencies and console scripts.  It is read with ``tomllib`` (Python >= 3.11)
or, on older Pythons, with the small parser below, which understands the subset of TOML that
file uses (tables, strings, arrays, inline tables).

Layout assumed: ``src/<package>/...`` (everything under ``src/`` except caches goes into the
wheel), ``README.md`` as the long description.
"""

import base64
import csv
import hashlib
import io
import os
import re
import tarfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"
BACKEND_DIR = Path(__file__).resolve().parent

WHEEL_TAG = "py3-none-any"
GENERATOR = "coordinate_build (in-tree)"
# Not shipped: bytecode and tool droppings.
_SKIP_DIRS = {"__pycache__", ".pytest_cache", ".mypy_cache"}
_SKIP_SUFFIXES = (".pyc", ".pyo")

__all__ = [
    "get_requires_for_build_wheel", "get_requires_for_build_sdist",
    "get_requires_for_build_editable", "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable", "build_wheel", "build_sdist", "build_editable",
]


# --------------------------------------------------------------------------- pyproject.toml

def _load_toml(text):
    try:
        import tomllib
    except ImportError:
        return _mini_toml(text)
    return tomllib.loads(text)


def _mini_toml(text):
    """Parse the TOML subset used by pyproject.toml (for Python < 3.11)."""
    data = {}
    table = data
    pos = 0
    n = len(text)

    def skip_ws(p, newlines=False):
        while p < n:
            c = text[p]
            if c in " \t" or (newlines and c in "\r\n"):
                p += 1
            elif c == "#":
                while p < n and text[p] != "\n":
                    p += 1
            else:
                break
        return p

    def parse_key(p):
        parts = []
        while True:
            p = skip_ws(p)
            if text[p] in "\"'":
                val, p = parse_string(p)
                parts.append(val)
            else:
                m = re.compile(r"[A-Za-z0-9_-]+").match(text, p)
                if not m:
                    raise ValueError(f"pyproject.toml: bad key at offset {p}")
                parts.append(m.group(0))
                p = m.end()
            p = skip_ws(p)
            if p < n and text[p] == ".":
                p += 1
                continue
            return parts, p

    def parse_string(p):
        if text.startswith('"""', p) or text.startswith("'''", p):
            q = text[p:p + 3]
            end = text.index(q, p + 3)
            val = text[p + 3:end]
            if val.startswith("\n"):
                val = val[1:]
            if q == '"""':
                val = _unescape(val)
            return val, end + 3
        q = text[p]
        p += 1
        out = []
        while text[p] != q:
            if q == '"' and text[p] == "\\":
                out.append(text[p:p + 2])
                p += 2
            else:
                out.append(text[p])
                p += 1
        val = "".join(out)
        return (_unescape(val) if q == '"' else val), p + 1

    def parse_value(p):
        p = skip_ws(p)
        c = text[p]
        if c in "\"'":
            return parse_string(p)
        if c == "[":
            items = []
            p += 1
            while True:
                p = skip_ws(p, newlines=True)
                if text[p] == "]":
                    return items, p + 1
                val, p = parse_value(p)
                items.append(val)
                p = skip_ws(p, newlines=True)
                if text[p] == ",":
                    p += 1
        if c == "{":
            tbl = {}
            p += 1
            while True:
                p = skip_ws(p)
                if text[p] == "}":
                    return tbl, p + 1
                keys, p = parse_key(p)
                p = skip_ws(p)
                if text[p] != "=":
                    raise ValueError(f"pyproject.toml: expected '=' at offset {p}")
                val, p = parse_value(p + 1)
                _set(tbl, keys, val)
                p = skip_ws(p)
                if text[p] == ",":
                    p += 1
        m = re.compile(r"true|false|[+-]?\d[\d_]*(\.\d+)?").match(text, p)
        if not m:
            raise ValueError(f"pyproject.toml: unsupported value at offset {p}")
        tok = m.group(0)
        if tok in ("true", "false"):
            return tok == "true", m.end()
        tok = tok.replace("_", "")
        return (float(tok) if "." in tok else int(tok)), m.end()

    while True:
        pos = skip_ws(pos, newlines=True)
        if pos >= n:
            return data
        if text.startswith("[[", pos):
            keys, pos = parse_key(pos + 2)
            pos = text.index("]]", pos) + 2
            parent = data
            for k in keys[:-1]:
                parent = parent.setdefault(k, {})
            table = {}
            parent.setdefault(keys[-1], []).append(table)
        elif text[pos] == "[":
            keys, pos = parse_key(pos + 1)
            pos = text.index("]", pos) + 1
            table = data
            for k in keys:
                table = table.setdefault(k, {})
        else:
            keys, pos = parse_key(pos)
            pos = skip_ws(pos)
            if text[pos] != "=":
                raise ValueError(f"pyproject.toml: expected '=' at offset {pos}")
            val, pos = parse_value(pos + 1)
            _set(table, keys, val)


def _set(tbl, keys, val):
    for k in keys[:-1]:
        tbl = tbl.setdefault(k, {})
    tbl[keys[-1]] = val


def _unescape(s):
    esc = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "b": "\b", "f": "\f"}

    def sub(m):
        if m.group(2) or m.group(3):
            return chr(int(m.group(2) or m.group(3), 16))
        return esc.get(m.group(1), m.group(0))

    return re.sub(r"\\(u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|.)", sub, s)


class _Project:
    def __init__(self):
        meta = _load_toml((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
        self.meta = meta
        self.name = meta["name"]
        self.version = meta["version"]
        # Wheel / dist-info file-name escaping (PEP 427, PEP 503 normalisation).
        self.dist_name = re.sub(r"[-_.]+", "_", self.name).lower()
        self.dist_info = f"{self.dist_name}-{self.version}.dist-info"
        self._check_version()

    def _check_version(self):
        # src/<pkg>/__init__.py also carries __version__; refuse to build if they disagree.
        init = SRC / self.dist_name / "__init__.py"
        if init.is_file():
            m = re.search(r"^__version__\s*=\s*['\"]([^'\"]+)['\"]", init.read_text(encoding="utf-8"), re.M)
            if m and m.group(1) != self.version:
                raise RuntimeError(f"version mismatch: pyproject.toml says {self.version}, "
                                   f"{init.relative_to(ROOT)} says {m.group(1)}")

    def readme(self):
        readme = self.meta.get("readme")
        if readme is None:
            return None, None
        if isinstance(readme, dict):
            if "text" in readme:
                return readme["text"], readme.get("content-type", "text/plain")
            readme_file, ctype = readme["file"], readme.get("content-type")
        else:
            readme_file, ctype = readme, None
        if ctype is None:
            ext = os.path.splitext(readme_file)[1].lower()
            ctype = {".md": "text/markdown", ".rst": "text/x-rst"}.get(ext, "text/plain")
        return (ROOT / readme_file).read_text(encoding="utf-8"), ctype

    def metadata(self):
        m = self.meta
        lines = ["Metadata-Version: 2.1", f"Name: {self.name}", f"Version: {self.version}"]
        if m.get("description"):
            lines.append(f"Summary: {m['description']}")
        lic = m.get("license")
        if isinstance(lic, dict) and lic.get("text"):
            lines.append(f"License: {lic['text']}")
        elif isinstance(lic, str):
            lines.append(f"License: {lic}")
        for c in m.get("classifiers", []):
            lines.append(f"Classifier: {c}")
        if m.get("requires-python"):
            lines.append(f"Requires-Python: {m['requires-python']}")
        for dep in m.get("dependencies", []):
            lines.append(f"Requires-Dist: {dep}")
        for extra, deps in m.get("optional-dependencies", {}).items():
            lines.append(f"Provides-Extra: {extra}")
            for dep in deps:
                marker = f'extra == "{extra}"'
                if ";" in dep:
                    req, _, cond = dep.partition(";")
                    lines.append(f"Requires-Dist: {req.strip()} ; ({cond.strip()}) and {marker}")
                else:
                    lines.append(f"Requires-Dist: {dep} ; {marker}")
        body, ctype = self.readme()
        if body is not None:
            lines.append(f"Description-Content-Type: {ctype}")
            return "\n".join(lines) + "\n\n" + body
        return "\n".join(lines) + "\n"

    def wheel_file(self):
        return ("Wheel-Version: 1.0\n"
                f"Generator: {GENERATOR}\n"
                "Root-Is-Purelib: true\n"
                f"Tag: {WHEEL_TAG}\n")

    def entry_points(self):
        groups = {}
        if self.meta.get("scripts"):
            groups["console_scripts"] = self.meta["scripts"]
        if self.meta.get("gui-scripts"):
            groups["gui_scripts"] = self.meta["gui-scripts"]
        groups.update(self.meta.get("entry-points", {}))
        if not groups:
            return None
        out = []
        for group, eps in groups.items():
            out.append(f"[{group}]")
            out.extend(f"{k} = {v}" for k, v in eps.items())
            out.append("")
        return "\n".join(out)

    def dist_info_files(self):
        files = {"METADATA": self.metadata(), "WHEEL": self.wheel_file()}
        eps = self.entry_points()
        if eps:
            files["entry_points.txt"] = eps
        return {f"{self.dist_info}/{k}": v.encode("utf-8") for k, v in files.items()}


def _package_files():
    """(archive name, path) for every file to ship from src/, sorted."""
    out = []
    for dirpath, dirnames, filenames in os.walk(SRC):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
        for f in sorted(filenames):
            if f.endswith(_SKIP_SUFFIXES):
                continue
            path = Path(dirpath) / f
            out.append((path.relative_to(SRC).as_posix(), path))
    return out


# --------------------------------------------------------------------------- archives

def _timestamp():
    # Reproducible: honour SOURCE_DATE_EPOCH, else a fixed date (zip cannot go before 1980).
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    return max(epoch, 315532800)


class _WheelWriter:
    def __init__(self, path, dist_info):
        self.path = path
        self.dist_info = dist_info
        self.records = []
        self.zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self.date = time.gmtime(_timestamp())[:6]

    def add(self, arcname, data, mode=0o644):
        info = zipfile.ZipInfo(arcname, date_time=self.date)
        info.external_attr = (0o100000 | mode) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zf.writestr(info, data)
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
        self.records.append((arcname, f"sha256={digest}", str(len(data))))

    def close(self):
        record_name = f"{self.dist_info}/RECORD"
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerows(self.records)
        writer.writerow((record_name, "", ""))
        info = zipfile.ZipInfo(record_name, date_time=self.date)
        info.external_attr = (0o100644) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self.zf.writestr(info, buf.getvalue().encode("utf-8"))
        self.zf.close()


def _build(wheel_directory, editable):
    proj = _Project()
    name = f"{proj.dist_name}-{proj.version}-{WHEEL_TAG}.whl"
    path = Path(wheel_directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    w = _WheelWriter(path, proj.dist_info)
    try:
        if editable:
            # PEP 660 the simple way: a .pth file putting src/ on sys.path.
            w.add(f"__editable__.{proj.dist_name}-{proj.version}.pth", (str(SRC) + "\n").encode("utf-8"))
        else:
            for arcname, src in _package_files():
                w.add(arcname, src.read_bytes())
        for arcname, data in proj.dist_info_files().items():
            w.add(arcname, data)
    finally:
        w.close()
    return name


def _prepare_metadata(metadata_directory):
    proj = _Project()
    for arcname, data in proj.dist_info_files().items():
        target = Path(metadata_directory) / arcname
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    return proj.dist_info


# --------------------------------------------------------------------------- PEP 517 / 660 hooks

def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    return _prepare_metadata(metadata_directory)


def prepare_metadata_for_build_editable(metadata_directory, config_settings=None):
    return _prepare_metadata(metadata_directory)


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=False)


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    return _build(wheel_directory, editable=True)


def build_sdist(sdist_directory, config_settings=None):
    proj = _Project()
    base = f"{proj.dist_name}-{proj.version}"
    name = f"{base}.tar.gz"
    path = Path(sdist_directory) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    mtime = _timestamp()

    members = []
    for rel in ("pyproject.toml", "README.md", "run_tests.sh"):
        if (ROOT / rel).is_file():
            members.append((rel, ROOT / rel))
    for top in (BACKEND_DIR, SRC, ROOT / "tests"):
        if not top.is_dir():
            continue
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.endswith(".egg-info"))
            for f in sorted(filenames):
                if not f.endswith(_SKIP_SUFFIXES):
                    p = Path(dirpath) / f
                    members.append((p.relative_to(ROOT).as_posix(), p))

    def add(tf, arcname, data, mode):
        info = tarfile.TarInfo(f"{base}/{arcname}")
        info.size = len(data)
        info.mtime = mtime
        info.mode = mode
        info.uname = info.gname = ""
        tf.addfile(info, io.BytesIO(data))

    # gzip header mtime fixed too, for reproducibility.
    with open(path, "wb") as raw:
        import gzip
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime, filename="") as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tf:
                for arcname, p in members:
                    mode = 0o755 if os.access(p, os.X_OK) else 0o644
                    add(tf, arcname, p.read_bytes(), mode)
                add(tf, "PKG-INFO", proj.metadata().encode("utf-8"), 0o644)
    return name
