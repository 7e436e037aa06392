"""``assets fetch`` offline against a local HTTP server (127.0.0.1, with Range support)."""
from __future__ import annotations

import hashlib
import http.server
import io
import tarfile
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

from harness.assetstore.fetch import UnsafeArchiveError, safe_extract
from harness.cli import main


class Server:
    """Serves ``files`` (path -> bytes); honours ``Range: bytes=N-``; records the Range headers it got."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.ranges: list[str | None] = []
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server naming)
                body = owner.files.get(self.path)
                owner.ranges.append(self.headers.get("Range"))
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                wanted = self.headers.get("Range")
                if wanted:
                    start = int(wanted.split("=", 1)[1].rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                self.wfile.write(body[start:])

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    srv = Server()
    yield srv
    srv.close()


def make_tar(members: list[tuple[str, bytes | None, bytes]]) -> bytes:
    """(name, content or None, tar type) -> .tar.gz bytes; for links content is the link target."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for name, content, kind in members:
            info = tarfile.TarInfo(name)
            info.type = kind
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = content.decode()
                bundle.addfile(info)
            elif kind == tarfile.REGTYPE:
                info.size = len(content)
                bundle.addfile(info, io.BytesIO(content))
            else:
                bundle.addfile(info)
    return buffer.getvalue()


GOOD = make_tar([("data/readme.txt", b"hello " * 1000, tarfile.REGTYPE),
                 ("data/sub/values.bin", bytes(range(256)) * 64, tarfile.REGTYPE),
                 ("data/link", b"readme.txt", tarfile.SYMTYPE)])


def manifest(tmp_path: Path, url: str, md5: str | None, name: str = "demo.tar.gz") -> Path:
    path = tmp_path / "assets.yaml"
    path.write_text(yaml.safe_dump({"assets": [{
        "name": "demo", "kind": "dataset", "origin": "url", "root": "data_dir", "path": f"archives/{name}",
        "url": url, "md5": md5, "extract_to": "demo", "provides": "demo/data", "obtain": "fetch it"}]}))
    return path


def fetch(man: Path, data: Path) -> int:
    return main(["assets", "fetch", "demo", "--data-dir", str(data), "--manifest", str(man)])


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


def test_fetch_downloads_verifies_and_extracts(server, tmp_path, data, capsys):
    server.files["/demo.tar.gz"] = GOOD
    man = manifest(tmp_path, server.url + "/demo.tar.gz", hashlib.md5(GOOD).hexdigest())
    assert fetch(man, data) == 0
    assert (data / "archives" / "demo.tar.gz").read_bytes() == GOOD
    assert (data / "demo" / "data" / "readme.txt").read_bytes() == b"hello " * 1000
    assert (data / "demo" / "data" / "link").resolve() == (data / "demo" / "data" / "readme.txt").resolve()
    assert not (data / "archives" / "demo.tar.gz.part").exists()
    assert main(["assets", "verify", "--data-dir", str(data), "--manifest", str(man)]) == 0
    assert " ok " in capsys.readouterr().out
    # a second fetch finds the right file in place: no new request, no second extraction
    requests = len(server.ranges)
    assert fetch(man, data) == 0
    assert len(server.ranges) == requests


def test_partial_download_is_resumed_with_a_range_request(server, tmp_path, data):
    server.files["/demo.tar.gz"] = GOOD
    man = manifest(tmp_path, server.url + "/demo.tar.gz", hashlib.md5(GOOD).hexdigest())
    part = data / "archives" / "demo.tar.gz.part"
    part.parent.mkdir()
    half = len(GOOD) // 2
    part.write_bytes(GOOD[:half])
    assert fetch(man, data) == 0
    assert server.ranges == [f"bytes={half}-"]
    assert (data / "archives" / "demo.tar.gz").read_bytes() == GOOD


def test_complete_part_file_answered_416_is_accepted(server, tmp_path, data):
    server.files["/demo.tar.gz"] = GOOD
    man = manifest(tmp_path, server.url + "/demo.tar.gz", hashlib.md5(GOOD).hexdigest())
    (data / "archives").mkdir()
    (data / "archives" / "demo.tar.gz.part").write_bytes(GOOD)
    assert fetch(man, data) == 0
    assert server.ranges == [f"bytes={len(GOOD)}-"]


def test_corrupted_download_is_refused_and_not_kept(server, tmp_path, data, capsys):
    server.files["/demo.tar.gz"] = GOOD[:-10] + b"corrupted!"
    man = manifest(tmp_path, server.url + "/demo.tar.gz", hashlib.md5(GOOD).hexdigest())
    assert fetch(man, data) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: md5 of") and "expected" in err
    assert not (data / "archives" / "demo.tar.gz").exists()
    assert not (data / "archives" / "demo.tar.gz.part").exists()
    assert not (data / "demo").exists() or not any((data / "demo").iterdir())


def test_http_error_is_one_line(server, tmp_path, data, capsys):
    man = manifest(tmp_path, server.url + "/missing.tar.gz", None)
    assert fetch(man, data) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_non_url_asset_explains_how_to_obtain(tmp_path, data, capsys):
    path = tmp_path / "assets.yaml"
    path.write_text(yaml.safe_dump({"assets": [{"name": "demo", "kind": "model", "origin": "user-provided",
                                                "root": "data_dir", "path": "m.onnx", "obtain": "ask the authors"}]}))
    assert fetch(path, data) == 1
    assert "ask the authors" in capsys.readouterr().err


MALICIOUS = {
    "traversal": make_tar([("data/ok.txt", b"x", tarfile.REGTYPE), ("../evil.txt", b"evil", tarfile.REGTYPE)]),
    "absolute": make_tar([("/tmp/evil-absolute.txt", b"evil", tarfile.REGTYPE)]),
    "symlink_out": make_tar([("data/escape", b"../../../outside", tarfile.SYMTYPE)]),
    "symlink_absolute": make_tar([("data/escape", b"/etc/passwd", tarfile.SYMTYPE)]),
    "hardlink_out": make_tar([("data/hard", b"../../etc/passwd", tarfile.LNKTYPE)]),
    "device": make_tar([("data/dev", None, tarfile.CHRTYPE)]),
}


@pytest.mark.parametrize("case", sorted(MALICIOUS))
def test_malicious_tar_is_refused_with_nothing_extracted(server, tmp_path, data, capsys, case):
    body = MALICIOUS[case]
    server.files["/bad.tar.gz"] = body
    man = manifest(tmp_path, server.url + "/bad.tar.gz", hashlib.md5(body).hexdigest(), "bad.tar.gz")
    assert fetch(man, data) == 1
    err = capsys.readouterr().err
    assert err.startswith("error:") and "refusing to extract" in err and err.count("\n") == 1
    assert not (tmp_path / "evil.txt").exists() and not (data / "evil.txt").exists()
    assert not Path("/tmp/evil-absolute.txt").exists()
    assert not (data / "demo").exists() or not any((data / "demo").iterdir())
    assert not [p for p in data.iterdir() if p.name.startswith(".demo.extract")]


def _zip(entries: list[tuple[str, bytes, int]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, content, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            bundle.writestr(info, content)
    return buffer.getvalue()


@pytest.mark.parametrize("entries,message", [
    ([("../evil.txt", b"e", 0o100644)], "climbs out"),
    ([("/abs.txt", b"e", 0o100644)], "absolute path"),
    ([("link", b"../../outside", 0o120777)], "symbolic link"),
])
def test_malicious_zip_is_refused(tmp_path, entries, message):
    archive = tmp_path / "bad.zip"
    archive.write_bytes(_zip(entries))
    with pytest.raises(UnsafeArchiveError, match=message):
        safe_extract(archive, tmp_path / "target")
    assert not (tmp_path / "evil.txt").exists()
    assert not (tmp_path / "target").exists() or not any((tmp_path / "target").iterdir())


def test_good_zip_extracts_and_refuses_to_overwrite(tmp_path):
    archive = tmp_path / "good.zip"
    archive.write_bytes(_zip([("val/a.txt", b"a", 0o100644), ("val/b/c.txt", b"c", 0o100644)]))
    assert safe_extract(archive, tmp_path / "target") == ["val"]
    assert (tmp_path / "target" / "val" / "b" / "c.txt").read_bytes() == b"c"
    with pytest.raises(FileExistsError, match="already exist"):
        safe_extract(archive, tmp_path / "target")


def _tar_of(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as bundle:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            bundle.addfile(info, io.BytesIO(content))
    return path


def test_archives_sharing_a_top_folder_merge_but_never_overwrite(tmp_path):
    """LibriSpeech's test-clean and dev-clean archives both unpack into LibriSpeech/ under one folder."""
    target = tmp_path / "librispeech"
    test = _tar_of(tmp_path / "test.tar.gz", {"LibriSpeech/README.TXT": b"r", "LibriSpeech/test-clean/a.txt": b"a"})
    dev = _tar_of(tmp_path / "dev.tar.gz", {"LibriSpeech/dev-clean/b.txt": b"b"})
    assert safe_extract(test, target) == ["LibriSpeech"]
    assert safe_extract(dev, target) == ["LibriSpeech"]
    assert (target / "LibriSpeech" / "test-clean" / "a.txt").read_bytes() == b"a"
    assert (target / "LibriSpeech" / "dev-clean" / "b.txt").read_bytes() == b"b"
    clash = _tar_of(tmp_path / "clash.tar.gz", {"LibriSpeech/new.txt": b"n", "LibriSpeech/README.TXT": b"other"})
    with pytest.raises(FileExistsError, match="LibriSpeech/README.TXT"):
        safe_extract(clash, target)
    assert (target / "LibriSpeech" / "README.TXT").read_bytes() == b"r"
    assert not (target / "LibriSpeech" / "new.txt").exists()  # all or nothing
