"""HTTPS: the local CA made once and reused, the certificate's names, and real clients trusting only that CA.

Clients reach the mock by a non-loopback name, ``mailgun-mock.test``, mapped to 127.0.0.1 inside the
client's process only (a ``socket.getaddrinfo`` patch for Python, a ``dns.lookup`` preload for Node),
exactly as an app in a container reaches ``https://mailgun-mock:8090``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from cryptography import x509

from mailgun_mock import Config, MailgunMock
from mailgun_mock.edges import tls

from .test_cli import Serving

NAME = "mailgun-mock.test"
# A child process gets no proxy and no CA from the caller's environment: only what the test gives it.
_SCRUBBED = ("proxy", "ca_bundle", "ssl_cert", "node_extra_ca", "node_options", "mailgun_mock_")


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not any(s in k.lower() for s in _SCRUBBED)}
    return {**env, "NO_PROXY": "*", **extra}


def san_names(path: Path) -> set[str]:
    cert = x509.load_pem_x509_certificate(path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {*san.get_values_for_type(x509.DNSName), *(str(ip) for ip in san.get_values_for_type(x509.IPAddress))}


@pytest.fixture(scope="module")
def tls_mock(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MailgunMock]:
    """A --tls mock on 127.0.0.1 (free port) whose certificate also names mailgun-mock.test."""
    folder = tmp_path_factory.mktemp("tls")
    with MailgunMock(tls=True, tls_dir=str(folder), allowed_hosts=(NAME,)) as mock:
        yield mock


@pytest.fixture
def mock(tls_mock: MailgunMock) -> Iterator[MailgunMock]:
    """The module's TLS mock, reset before the test."""
    tls_mock.reset()
    yield tls_mock
    tls_mock.raise_errors()


# -- the CA and the certificate ---------------------------------------------------------------


def test_tls_ca_is_created_once_and_reused(tmp_path: Path) -> None:
    """A second start in the same folder keeps the CA and the certificate; keys are 0600, the folder 0700."""
    folder = tmp_path / "tls"
    first = tls.ensure_certificates(folder, ["localhost", "127.0.0.1", "::1"])
    ca, cert = first.ca_file.read_bytes(), first.cert_file.read_bytes()
    again = tls.ensure_certificates(folder, ["localhost", "127.0.0.1", "::1"])
    assert (first.created_ca, first.issued, again.created_ca, again.issued) == (True, True, False, False)
    assert (again.ca_file.read_bytes(), again.cert_file.read_bytes()) == (ca, cert)
    for key in (tls.CA_KEY_FILE, tls.KEY_FILE):
        assert stat.S_IMODE((folder / key).stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_tls_certificate_is_issued_again_when_the_names_change(tmp_path: Path) -> None:
    """A new allowed host gets a new certificate for the new name set, from the same CA."""
    first = tls.ensure_certificates(tmp_path, ["localhost", "127.0.0.1"])
    ca = first.ca_file.read_bytes()
    second = tls.ensure_certificates(tmp_path, ["localhost", "127.0.0.1", "mailgun-mock"])
    assert second.issued and not second.created_ca and second.ca_file.read_bytes() == ca
    assert san_names(second.cert_file) == {"localhost", "127.0.0.1", "mailgun-mock"}
    leaf = x509.load_pem_x509_certificate(second.cert_file.read_bytes())
    leaf.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))


def test_tls_certificate_names_loopback_public_url_and_allowed_hosts() -> None:
    """The names are loopback, the public URL's host and each allowed host; '*' is skipped."""
    config = Config(public_url="https://mail.example.test:8443", allowed_hosts=("mailgun-mock", "*", "10.0.0.5"))
    assert tls.certificate_names(config) == ("localhost", "127.0.0.1", "::1", "mail.example.test", "mailgun-mock",
                                             "10.0.0.5")


def test_tls_bad_host_name_is_refused() -> None:
    """An allowed host that no certificate can name (a URL, a port) is a TlsError that says so."""
    with pytest.raises(tls.TlsError, match="not a host name"):
        tls.certificate_names(Config(allowed_hosts=("mailgun-mock:8090",)))


def test_tls_unreadable_ca_is_refused_and_left_alone(tmp_path: Path) -> None:
    """A corrupt ca.pem stops the start with a clear message and is never overwritten."""
    tls.ensure_certificates(tmp_path, ["localhost"])
    (tmp_path / tls.CA_FILE).write_bytes(b"not a certificate")
    with pytest.raises(tls.TlsError, match="cannot be read"):
        tls.ensure_certificates(tmp_path, ["localhost"])
    assert (tmp_path / tls.CA_FILE).read_bytes() == b"not a certificate"


def test_tls_default_folder_is_beside_the_snapshot_else_per_user(tmp_path: Path) -> None:
    """Without --tls-dir the folder sits beside the snapshot, else under XDG_DATA_HOME (or ~/.local/share)."""
    assert tls.default_tls_dir(str(tmp_path / "state.json")) == tmp_path / "mailgun-mock-tls"
    assert tls.default_tls_dir("", {"XDG_DATA_HOME": "/data"}) == Path("/data/mailgun-mock/tls")
    assert tls.default_tls_dir("", {}) == Path.home() / ".local/share/mailgun-mock/tls"


def test_tls_env_twins_are_read() -> None:
    """MAILGUN_MOCK_TLS, MAILGUN_MOCK_TLS_DIR and MAILGUN_MOCK_ALLOWED_HOST (comma-separated) configure it."""
    config = Config.from_env({"MAILGUN_MOCK_TLS": "true", "MAILGUN_MOCK_TLS_DIR": "/x",
                              "MAILGUN_MOCK_ALLOWED_HOST": "mailgun-mock, Mail.Test"})
    assert (config.tls, config.tls_dir, config.allowed_hosts) == (True, "/x", ("mailgun-mock", "mail.test"))
    assert Config.from_env({"MAILGUN_MOCK_TLS": "0"}).tls is False
    with pytest.raises(ValueError, match="MAILGUN_MOCK_TLS must be true or false"):
        Config.from_env({"MAILGUN_MOCK_TLS": "maybe"})


# -- the server --------------------------------------------------------------------------------


def test_tls_mock_url_is_https_and_storage_urls_follow(mock: MailgunMock) -> None:
    """With tls the URL is https://, and stored messages' URLs are built on it."""
    assert mock.url.startswith("https://127.0.0.1:") and mock.ca_file is not None
    mock.create_route('match_recipient(".*@example.com")', "store()")
    answer = mock.inject(from_="bob@example.net", to=["support@example.com"], subject="Hi", text="Hello")
    url = answer["recipients"][0]["actions"][0]["storage"]["url"]
    assert url.startswith(mock.url + "/v3/domains/example.com/messages/")
    reply = requests.get(url, auth=("api", mock.api_key), verify=mock.ca_file, timeout=10)
    assert reply.status_code == 200 and reply.json()["subject"] == "Hi"


def test_tls_silent_client_does_not_stall_the_others(mock: MailgunMock) -> None:
    """A client that connects and never starts its handshake does not keep others from being served."""
    with socket.create_connection(("127.0.0.1", mock.port)):
        reply = requests.get(f"{mock.url}/mock/health", verify=mock.ca_file, timeout=5)
    assert reply.status_code == 200


PYTHON_CLIENT = textwrap.dedent("""
    import json, socket, sys

    real = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):  # this process only: mailgun-mock.test is 127.0.0.1
        return real("127.0.0.1" if host == "mailgun-mock.test" else host, *args, **kwargs)

    socket.getaddrinfo = getaddrinfo
    import requests
    from mailgun.client import Client

    url, key = sys.argv[1], sys.argv[2]
    out = {}
    try:
        client = Client(auth=("api", key), api_url=url)
        route = client.routes.create(data={"expression": 'match_recipient(".*@example.com")', "action": ["store()"],
                                           "priority": 1, "description": "from the SDK"})
        sent = client.messages.create(data={"from": "sdk@example.com", "to": ["bob@example.net"],
                                            "subject": "Hi from the SDK", "text": "hello"}, domain="example.com")
        out["sdk"] = [route.status_code, route.json()["route"]["description"], sent.status_code]
    except Exception as exc:
        out["sdk"] = f"{type(exc).__name__}: {exc}"
    try:
        reply = requests.get(url + "/v3/routes", auth=("api", key), timeout=10)
        out["requests"] = [reply.status_code, reply.json()["total_count"]]
    except Exception as exc:
        out["requests"] = f"{type(exc).__name__}: {exc}"
    print(json.dumps(out))
""")


def run_python_client(tmp_path: Path, mock: MailgunMock, **env: str) -> dict[str, object]:
    script = tmp_path / "client.py"
    script.write_text(PYTHON_CLIENT)
    done = subprocess.run([sys.executable, str(script), f"https://{NAME}:{mock.port}", mock.api_key],
                          env=child_env(**env), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_tls_official_sdk_and_requests_trust_the_printed_ca(mock: MailgunMock, tmp_path: Path) -> None:
    """The official SDK and requests reach https://mailgun-mock.test with REQUESTS_CA_BUNDLE=<ca> and nothing else."""
    assert mock.ca_file is not None
    out = run_python_client(tmp_path, mock, REQUESTS_CA_BUNDLE=mock.ca_file)
    assert out == {"sdk": [200, "from the SDK", 200], "requests": [200, 1]}
    assert [m["subject"] for m in mock.outbox] == ["Hi from the SDK"]


def test_tls_python_clients_without_the_ca_fail_on_the_certificate(mock: MailgunMock, tmp_path: Path) -> None:
    """Without the CA, the SDK and requests fail with a certificate error, and nothing reaches the mock."""
    out = run_python_client(tmp_path, mock)
    assert "CERTIFICATE_VERIFY_FAILED" in str(out["sdk"]) and "CERTIFICATE_VERIFY_FAILED" in str(out["requests"])
    assert mock.outbox == [] and mock.backend.list_routes()[1] == 0


NODE_RESOLVE = """
const dns = require('dns');
const real = dns.lookup;
dns.lookup = function (hostname, options, callback) {  // this process only: mailgun-mock.test is 127.0.0.1
  return real.call(this, hostname === 'mailgun-mock.test' ? '127.0.0.1' : hostname, options, callback);
};
"""

NODE_CLIENT = """
const FormData = require('form-data');
const Mailgun = require('mailgun.js');
const mg = new Mailgun(FormData).client({ username: 'api', key: process.env.MG_KEY, url: process.env.MG_URL });
(async () => {
  try {
    const route = await mg.routes.create({ expression: 'match_recipient(".*@example.com")', action: ['store()'],
                                           description: 'from node', priority: 1 });
    const sent = await mg.messages.create('example.com', { from: 'node@example.com', to: ['bob@example.net'],
                                                           subject: 'Hi from Node', text: 'hello' });
    console.log(JSON.stringify({ ok: true, route: route.description, sent: sent.status }));
  } catch (e) {
    console.log(JSON.stringify({ ok: false, message: String(e && e.message), details: String(e && e.details) }));
  }
})();
"""


@pytest.fixture(scope="module")
def node_client(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with mailgun.js and form-data installed from the npm registry, and the client scripts."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("node and npm are not installed")
    folder = tmp_path_factory.mktemp("node")
    done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--silent", "mailgun.js", "form-data"],
                          cwd=folder, capture_output=True, text=True, timeout=300, env=child_env())
    assert done.returncode == 0, done.stdout + done.stderr
    (folder / "resolve.js").write_text(NODE_RESOLVE)
    (folder / "client.js").write_text(NODE_CLIENT)
    return folder


def run_node_client(folder: Path, mock: MailgunMock, **env: str) -> dict[str, object]:
    done = subprocess.run(
        ["node", str(folder / "client.js")], cwd=folder, capture_output=True, text=True, timeout=60,
        env=child_env(MG_KEY=mock.api_key, MG_URL=f"https://{NAME}:{mock.port}",
                      NODE_OPTIONS=f"--require {folder / 'resolve.js'}", **env))
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_tls_mailgun_js_trusts_the_printed_ca(mock: MailgunMock, node_client: Path) -> None:
    """Node's mailgun.js creates a route and sends through https://mailgun-mock.test with NODE_EXTRA_CA_CERTS=<ca>."""
    assert mock.ca_file is not None
    out = run_node_client(node_client, mock, NODE_EXTRA_CA_CERTS=mock.ca_file)
    assert out == {"ok": True, "route": "from node", "sent": 200}
    assert [m["subject"] for m in mock.outbox] == ["Hi from Node"]


def test_tls_mailgun_js_without_the_ca_fails_on_the_certificate(mock: MailgunMock, node_client: Path) -> None:
    """Without NODE_EXTRA_CA_CERTS, mailgun.js fails with Node's certificate error and sends nothing."""
    out = run_node_client(node_client, mock)
    assert out["ok"] is False and "unable to verify the first certificate" in str(out["details"])
    assert mock.outbox == []


# -- the command line --------------------------------------------------------------------------


@pytest.fixture
def serving() -> Iterator[type[Serving]]:
    """Starts `mailgun-mock serve` children and stops every one of them after the test."""
    started: list[Serving] = []

    class Tracked(Serving):
        def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
            super().__init__(*args, env=env)
            started.append(self)

    yield Tracked
    for child in started:
        if child.proc.poll() is None:
            child.proc.kill()
        child.proc.wait()
        for stream in (child.proc.stdout, child.proc.stderr):
            stream.close()  # type: ignore[union-attr]


def test_tls_serve_prints_the_ca_and_a_second_start_reuses_it(serving: type[Serving], tmp_path: Path) -> None:
    """`serve --tls --tls-dir X --port 0` prints the CA's path and how to trust it; the next start (env twins) reuses it."""
    folder = tmp_path / "tls"
    first = serving("--tls", "--tls-dir", str(folder), "--port", "0", "--allowed-host", NAME)
    url = first.read_until(r"serving the Mailgun API on (https://127\.0\.0\.1:\d+)").group(1)
    ca = first.read_until(r"HTTPS CA:\s+(\S+) \(created now").group(1)
    assert ca == str(folder / "ca.pem")
    first.read_until(f"REQUESTS_CA_BUNDLE={re.escape(ca)}")
    first.read_until(f"NODE_EXTRA_CA_CERTS={re.escape(ca)}")
    first.read_until(f"SSL_CERT_FILE={re.escape(ca)}")
    assert requests.get(f"{url}/mock/health", verify=ca, timeout=10).status_code == 200
    assert first.stop() == 0
    made = (folder / "ca.pem").read_bytes()

    second = serving("--port", "0", env={"MAILGUN_MOCK_TLS": "1", "MAILGUN_MOCK_TLS_DIR": str(folder),
                                         "MAILGUN_MOCK_ALLOWED_HOST": NAME})
    url = second.read_until(r"serving the Mailgun API on (https://\S+)").group(1)
    second.read_until(rf"HTTPS CA:\s+{re.escape(ca)} \(reused")
    assert (folder / "ca.pem").read_bytes() == made
    assert requests.get(f"{url}/mock/health", verify=ca, timeout=10).status_code == 200
    assert second.stop() == 0


def test_tls_serve_with_an_unusable_folder_says_why(tmp_path: Path) -> None:
    """A TLS folder holding a corrupt CA stops `serve --tls` with exit 1 and a message naming the problem."""
    folder = tmp_path / "tls"
    folder.mkdir()
    (folder / "ca.pem").write_text("garbage")
    done = subprocess.run([sys.executable, "-m", "mailgun_mock", "serve", "--tls", "--tls-dir", str(folder),
                           "--port", "0"], capture_output=True, text=True, timeout=60, env=child_env())
    assert done.returncode == 1
    assert "the CA in" in done.stderr and "cannot be read" in done.stderr and "not starting" in done.stderr
