#!/usr/bin/env bash
# Installs the Debian packages the tests need, if missing: protoc (proto generation check),
# Dovecot (the real IMAP server the MAIL connector is tested against), openssl (throwaway
# test CAs), ss from iproute2 (counting open sockets), curl (.ci/run's production install
# check, and HTTP/2 requests Node's own client refuses to send, such as a repeated
# authorization header), Chromium (the browser test drives it through playwright-core, which
# downloads no browser of its own). SMTP is smtp-server from npm.
# Idempotent; as root.
set -euo pipefail
missing=()
command -v protoc >/dev/null || missing+=(protobuf-compiler)
command -v dovecot >/dev/null || [ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v ss >/dev/null || [ -x /usr/sbin/ss ] || [ -x /usr/bin/ss ] || missing+=(iproute2)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "missing system packages: ${missing[*]} (install them with: sudo apt-get install -y ${missing[*]})" >&2
  exit 1
fi
echo "installing system packages: ${missing[*]}" >&2
bash "$(dirname "$0")/apt-install.sh" "${missing[@]}" >/dev/null

# The tests start their own Dovecot instances; a system one started by the package would
# only hold ports 143/993 (and make the port-993 test skip).
if [[ " ${missing[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null && systemctl is-active --quiet dovecot 2>/dev/null; then
  systemctl disable --now dovecot
fi
