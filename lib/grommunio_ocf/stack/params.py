"""stack-health's parameters: one declarative spec for metadata, parsing and checks.

Kept out of the agent file because the interpreter compiles the script it
runs on every start, while an imported module comes from its cached
bytecode: these descriptions are most of the agent's text.  Each check's
parameter says what it proves and, for the checks that only degrade,
why: what users lose when that unit fails.
"""

from ..base.netaddr import optional, parse_address, parse_url
from ..checks.agent import shared
from ..ocf.params import BOOLEAN, LIST, PATH, SECONDS, STRING, Param
from .checks import CHECK_NAMES

IMAP_SCHEMES = {"imap": 143, "imaps": 993, "imap+starttls": 143}
HTTP_SCHEMES = {"http": 80, "https": 443}


PARAMS = (
    Param("imap_url", STRING, "imap://localhost:143", off=True,
          validator=optional(lambda text: parse_url(text, IMAP_SCHEMES)),
          shortdesc="IMAP server to greet (imap://, imaps://, imap+starttls://); empty: off",
          longdesc="Healthy when the server greets with an untagged OK (gromox-imap: "
                   "'* OK ... Service ready') within the check timeout; '* BYE' or silence "
                   "fails. imap:// reads the plain greeting, imaps:// does TLS first (993), "
                   "imap+starttls:// greets, sends STARTTLS and completes the TLS handshake. "
                   "Empty disables the check."),
    Param("admin_api_url", STRING, "http://localhost:8080/api/v1/status", off=True,
          validator=optional(lambda text: parse_url(text, HTTP_SCHEMES)),
          shortdesc="grommunio-admin-api status URL (http:// or https://); empty: off",
          longdesc="Healthy when a GET answers HTTP 200 with a JSON object whose 'database' "
                   "field is true. 'database': false fails with that reason; a body without "
                   "the field (older admin-api) is healthy with 'database state unknown'. "
                   "Empty disables the check."),
    Param("mysql_config", PATH, "/etc/gromox/mysql_adaptor.cfg", off=True,
          shortdesc="gromox's MariaDB settings file (mysql_host, mysql_username, ...); empty: off",
          longdesc="The mysql_adaptor.cfg gromox itself uses, read with gromox's rules and "
                   "defaults: the check logs in with its mysql_username and password "
                   "(mysql_password, or the obfuscated mysql_password_mode_id555/id107 forms), "
                   "using mysql_native_password, selects mysql_dbname and pings, so the "
                   "password never enters the CIB. mysql_host 'localhost' (the default) means "
                   "the Unix socket (see mysql_socket), any other host TCP to mysql_port "
                   "(default 3306). Empty disables the check."),
    Param("mysql_socket", PATH, "",
          shortdesc="MariaDB Unix socket for mysql_host localhost; empty: found as gromox's "
                    "client library finds it",
          longdesc="The server's Unix socket, used when the configured mysql_host is "
                   "'localhost'. Empty (the default): the socket setting of the [client], "
                   "[client-server] or [client-mariadb] groups in /etc/my.cnf and "
                   "/etc/mysql/my.cnf (with their !include and !includedir files; the later "
                   "setting wins), else the first that exists of /run/mysqld/mysqld.sock "
                   "(Debian, Ubuntu), /run/mysql/mysql.sock (openSUSE, SLES) and "
                   "/var/lib/mysql/mysql.sock (RHEL family). --verbose shows which socket "
                   "was used and why."),
    Param("lmtp_address", STRING, "[::1]:24", off=True,
          validator=optional(lambda text: parse_address(text, 24)),
          shortdesc="LMTP/SMTP greeter HOST:PORT (gromox-delivery-queue); empty: off",
          longdesc="Healthy when the server greets with 220 (Postfix's virtual_transport "
                   "smtp:[::1]:24 delivers here). IPv6 addresses in brackets. Empty disables "
                   "the check."),
    Param("gromox_http_url", STRING, "http://[::1]:10080", off=True,
          validator=optional(lambda text: parse_url(text, HTTP_SCHEMES)),
          shortdesc="gromox-http base URL (MAPI/HTTP, EWS, ActiveSync's backend); empty: off",
          longdesc="Healthy when POST /mapi/emsmdb/?MailboxId=x without credentials answers "
                   "401 with WWW-Authenticate realm \"msrpc realm\": only gromox-http with its "
                   "MAPI/HTTP plugin answers so. grommunio-setup moves gromox-http to port "
                   "10080 (http.cfg listen_port) behind nginx. Critical by default: without "
                   "it Outlook, grommunio-web and mobile devices read no mail."),
    Param("exmdb_address", STRING, "[::1]:5000", off=True,
          validator=optional(lambda text: parse_address(text, 5000)),
          shortdesc="Information store (exmdb, inside gromox-http) HOST:PORT; empty: off",
          longdesc="Healthy when 4 zero bytes (exmdb's ping) are answered with the byte 00. "
                   "exmdb listens on ::1 and compares the peer's address string with its "
                   "allow-list (default ::1): use [::1], not 127.0.0.1; a refused peer gets "
                   "01, reported as such. Critical by default: every protocol reads mail "
                   "through the store."),
    Param("midb_address", STRING, "[::1]:5555", off=True,
          validator=optional(lambda text: parse_address(text, 5555)),
          shortdesc="gromox-midb HOST:PORT; empty: off",
          longdesc="Healthy when midb greets OK and answers 'PING x' with TRUE. midb listens "
                   "on ::1 and admits only addresses on its allow-list (default ::1): use "
                   "[::1]; a refused peer gets 'FALSE Access denied', reported as such. "
                   "Critical by default: IMAP and POP3 need midb for every folder listing."),
    Param("zcore_socket", PATH, "/run/gromox/zcore.sock", off=True,
          shortdesc="gromox-zcore Unix socket; empty: off",
          longdesc="Healthy when a checksession call for a session that does not exist is "
                   "answered 'no such session' (00 04 00 00 00 05 40 00 80): zcore parsed, "
                   "dispatched and answered it. Critical by default: grommunio-web needs "
                   "zcore for every page."),
    Param("event_address", STRING, "[::1]:33333", off=True,
          validator=optional(lambda text: parse_address(text, 33333)),
          shortdesc="gromox-event HOST:PORT; empty: off",
          longdesc="Healthy when gromox-event greets OK and answers PING with TRUE (listens on "
                   "::1, allow-list default ::1). Degrades only: without it new mail shows "
                   "late in IMAP IDLE and notifications; nothing is lost."),
    Param("timer_address", STRING, "[::1]:6666", off=True,
          validator=optional(lambda text: parse_address(text, 6666)),
          shortdesc="gromox-timer HOST:PORT; empty: off",
          longdesc="Healthy when gromox-timer greets OK and answers PING with TRUE (listens on "
                   "::1, allow-list default ::1). Degrades only: deferred sends wait; nothing "
                   "is lost."),
    Param("pop3_address", STRING, "localhost:110", off=True,
          validator=optional(lambda text: parse_address(text, 110)),
          shortdesc="POP3 server HOST:PORT (gromox-pop3); empty: off",
          longdesc="Healthy when the server greets with +OK (gromox-pop3: '+OK <host> pop "
                   "service ready'); --verbose shows the greeting. Degrades only: few clients "
                   "use POP3, and IMAP serves the same mailboxes."),
    Param("sync_url", STRING, "https://localhost/Microsoft-Server-ActiveSync", off=True,
          validator=optional(lambda text: parse_url(text, HTTP_SCHEMES)),
          shortdesc="ActiveSync URL through nginx (nginx, php-fpm, grommunio-sync); empty: off",
          longdesc="Healthy when OPTIONS without credentials answers 401 with WWW-Authenticate "
                   "realm \"GSync\": only grommunio-sync running in its php-fpm pool answers "
                   "so, which proves nginx (TLS included), the pool and the application at "
                   "once; 502/504 name the missing pool. Critical by default: without it "
                   "phones sync nothing, and the same nginx and php-fpm serve grommunio-web."),
    Param("web_url", STRING, "https://localhost/robots.txt", off=True,
          validator=optional(lambda text: parse_url(text, HTTP_SCHEMES)),
          shortdesc="A static URL nginx answers itself (robots.txt); empty: off",
          longdesc="Healthy when GET answers 200 with the body 'User-agent: *' / "
                   "'Disallow: /' that grommunio's nginx configuration serves. Degrades only: "
                   "the sync check already fails when nginx is down."),
    Param("antispam_url", STRING, "http://localhost:11334/ping", off=True,
          validator=optional(lambda text: parse_url(text, HTTP_SCHEMES)),
          shortdesc="grommunio-antispam (rspamd) controller ping URL; empty: off",
          longdesc="Healthy when GET answers 200 with the body 'pong'. Degrades only: mail "
                   "still flows (Postfix's milter_default_action) while the filter is down."),
    Param("redis_address", STRING, "", off=True,
          validator=optional(lambda text: parse_address(text, 6379)),
          shortdesc="Redis HOST:PORT to PING (e.g. 127.0.0.1:6379); empty: off",
          longdesc="Healthy when PING answers +PONG. A server that requires a password "
                   "answers NOAUTH, which fails with that reason (the check does not log in). "
                   "Degrades only: grommunio-web and the admin-api only cache in it."),
    Param("milter_address", STRING, "", off=True,
          validator=optional(lambda text: parse_address(text)),
          shortdesc="Milter HOST:PORT to negotiate with (e.g. localhost:11332); empty: off",
          longdesc="Healthy when the milter answers SMFIC_OPTNEG (offered as Postfix offers "
                   "it, version 6) with an option negotiation of version 6 or later "
                   "(grommunio-antispam/rspamd's milter). Degrades only."),
    Param("queue_dir", PATH, "/var/lib/gromox/queue", off=True,
          shortdesc="gromox-delivery's dequeue_path (mess/ and save/); empty: off",
          longdesc="gromox-delivery has no listener: the check reads its queue instead. The "
                   "oldest file in mess/ older than queue_max_age degrades (190) -- mail "
                   "waits, none is lost, and a failover would not deliver it sooner -- even "
                   "when queue is listed in critical. --verbose shows how many wait in mess/ "
                   "and how many sit in save/."),
    Param("queue_max_age", SECONDS, "600",
          shortdesc="Age in seconds of the oldest waiting message that degrades",
          longdesc="A message in queue_dir/mess older than this degrades the monitor: "
                   "gromox-delivery is not draining the queue."),
    Param("critical", LIST, "imap,admin_api,mysql,lmtp,gromox_http,exmdb,midb,zcore,sync",
          choices=CHECK_NAMES,
          shortdesc="Checks whose failure fails the resource; others only degrade it",
          longdesc="Names of checks. A failing critical check fails the monitor "
                   "(OCF_ERR_GENERIC: Pacemaker recovers the group); a failing other check "
                   "returns OCF_DEGRADED (190): shown in crm_mon, no restart. The default "
                   "holds what users cannot do without: reading mail at all (imap, "
                   "gromox_http, exmdb, midb, zcore, sync), receiving it (lmtp), the "
                   "database under everything (mysql) and administration (admin_api). "
                   "pop3, event, timer, web, antispam, redis and milter only degrade."),
    shared("fall"),
    shared("check_timeout"),
    shared("health_attribute"),
    Param("tls_verify", BOOLEAN, "false",
          shortdesc="Verify TLS certificates (system CAs and host name)",
          longdesc="Off by default: the certificate names the public host while the check "
                   "dials localhost, and an expired certificate should not fail over a "
                   "healthy cluster. Turn on when the URLs use the certificate's name."),
)
