"""A real IMAP server for the tests: Dovecot (Debian `dovecot-imapd`) on a free loopback port, its own config.

`Dovecot(directory).start()` writes a configuration of its own in `directory` (no system file is read or
written, no syslog: its log is `directory/dovecot.log`): one user from a passwd-file, maildir mail under
`directory/home`, plain IMAP on 127.0.0.1 only (courrier allows an unencrypted login to a loopback address
alone). Run as an ordinary user, every process is that user; run as root, the mail belongs to `nobody`
(Dovecot refuses mail access as root). Used by tests/system/test_capture_imap.py and the browser test.
"""
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from email.utils import make_msgid

DOVECOT = shutil.which("dovecot") or ("/usr/sbin/dovecot" if os.path.exists("/usr/sbin/dovecot") else None)
USER = "courrier"


def available():
    return DOVECOT is not None


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Dovecot:
    """One Dovecot and its mailbox; `url()` is what CAPTURE_IMAP_URL would say."""

    def __init__(self, directory=None):
        # Its own folder by default, under the system's temporary folder: Dovecot's unprivileged processes must
        # reach it, which pytest's private (0700) temporary folders forbid when the tests run as root.
        self.own_directory = directory is None
        self.directory = os.path.abspath(directory or tempfile.mkdtemp(prefix="courrier-dovecot-"))
        self.port = free_port()
        self.password = secrets.token_urlsafe(12)
        self.process = None

    # -------------------------------------------------------------------- server

    def _accounts(self):
        """(uid, gid, login user, internal user, internal group) the processes run as."""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid())
            return me.pw_uid, me.pw_gid, me.pw_name, me.pw_name, grp.getgrgid(me.pw_gid).gr_name
        nobody = pwd.getpwnam("nobody")
        return nobody.pw_uid, nobody.pw_gid, "dovenull", "dovecot", "dovecot"

    def _write_config(self):
        uid, gid, login_user, internal_user, internal_group = self._accounts()
        home = os.path.join(self.directory, "home")
        for sub in ("run", "state", os.path.join("home", USER)):
            os.makedirs(os.path.join(self.directory, sub), exist_ok=True)
        if os.geteuid() == 0:
            os.chmod(self.directory, 0o755)
            for root, dirs, _ in os.walk(home):
                os.chown(root, uid, gid)
        with open(os.path.join(self.directory, "users"), "w") as users:
            users.write(f"{USER}:{{PLAIN}}{self.password}:{uid}:{gid}::{home}/{USER}\n")
        config = f"""
protocols = imap
listen = 127.0.0.1
base_dir = {self.directory}/run
state_dir = {self.directory}/state
log_path = {self.directory}/dovecot.log
info_log_path = {self.directory}/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = {login_user}
default_internal_user = {internal_user}
default_internal_group = {internal_group}
first_valid_uid = {min(uid, 500) if uid else 1}
first_valid_gid = 0
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = {self.directory}/users
}}
userdb {{
  driver = passwd-file
  args = {self.directory}/users
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
"""
        path = os.path.join(self.directory, "dovecot.conf")
        with open(path, "w") as handle:
            handle.write(config)
        return path

    def start(self, timeout=20):
        config = self._write_config()
        with open(os.path.join(self.directory, "dovecot.out"), "wb") as log:
            self.process = subprocess.Popen([DOVECOT, "-F", "-c", config], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"dovecot stopped at start:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"dovecot did not answer within {timeout} s:\n{self.log()}")

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.own_directory:
            shutil.rmtree(self.directory, ignore_errors=True)

    def log(self):
        text = ""
        for name in ("dovecot.out", "dovecot.log"):
            path = os.path.join(self.directory, name)
            if os.path.exists(path):
                with open(path, errors="replace") as handle:
                    text += handle.read()[-4000:]
        return text

    # -------------------------------------------------------------------- mailbox

    def url(self, folder="INBOX"):
        return f"imap://{USER}:{self.password}@127.0.0.1:{self.port}/{folder}"

    def connect(self):
        connection = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        try:
            connection.login(USER, self.password)
        except imaplib.IMAP4.error:
            connection.shutdown()
            raise
        return connection

    def append(self, raw, folder="INBOX"):
        with self.connect() as connection:
            status, data = connection.append(folder, None, None, raw)
            assert status == "OK", data

    def folders(self):
        """{folder: [raw message, …]} of every folder."""
        found = {}
        with self.connect() as connection:
            _, listing = connection.list()
            for line in listing:
                name = line.decode().rsplit(' "/" ', 1)[-1].strip('"')
                connection.select(f'"{name}"', readonly=True)
                _, data = connection.uid("SEARCH", None, "ALL")
                found[name] = []
                for uid in data[0].split():
                    _, fetched = connection.uid("FETCH", uid, "(BODY.PEEK[])")
                    found[name].append(next(item[1] for item in fetched if isinstance(item, tuple)))
        return found

    def empty(self):
        """Delete every message and every folder but INBOX (between tests)."""
        with self.connect() as connection:
            _, listing = connection.list()
            for line in listing:
                name = line.decode().rsplit(' "/" ', 1)[-1].strip('"')
                _, count = connection.select(f'"{name}"')
                if int(count[0]):
                    connection.store("1:*", "+FLAGS.SILENT", r"(\Deleted)")
                    connection.expunge()
                connection.close()
                if name != "INBOX":
                    connection.delete(f'"{name}"')


def message(subject="Demande", sender="Jean Dupré <jean.dupre@example.fr>", message_id=True, attachments=(),
            body="Bonjour,\nveuillez trouver ma demande.\n"):
    """A raw e-mail: `attachments` are (filename, bytes, declared type) tuples."""
    from email.message import EmailMessage

    mail = EmailMessage()
    mail["From"] = sender
    mail["To"] = "Courrier <courrier@mairie.example>"
    mail["Subject"] = subject
    mail["Date"] = "Tue, 01 Dec 2026 09:15:00 +0100"
    if message_id:
        mail["Message-ID"] = make_msgid(domain="example.fr")
    mail.set_content(body)
    for filename, content, declared in attachments:
        maintype, subtype = declared.split("/")
        mail.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return mail.as_bytes()
