#!/bin/sh
# creatio-farm: the Identity Service's signing certificate, made on the Docker host and kept in its volume.
#
#   IDENTITY_CERTIFICATE       the PKCS#12 file to keep or make (in the volume)
#   IDENTITY_CERTIFICATE_DAYS  validity of a new certificate
#   IDENTITY_CERTIFICATE_CN    its subject's common name
#
# A readable certificate valid for 30 more days is kept: tokens the service signed stay verifiable. Otherwise a new
# RSA key and self-signed certificate are made and put in place by an atomic rename, so the service never reads a
# half-written file. The key never leaves the volume: not in Terraform state, not in the synth output.
# The PKCS#12 file has an empty password, as the service loads it (X509CertificatePath has no password key).
set -eu

fail() { echo "creatio-farm: $*" >&2; exit 1; }

pfx=${IDENTITY_CERTIFICATE:?IDENTITY_CERTIFICATE is not set}
days=${IDENTITY_CERTIFICATE_DAYS:?IDENTITY_CERTIFICATE_DAYS is not set}
cn=${IDENTITY_CERTIFICATE_CN:?IDENTITY_CERTIFICATE_CN is not set}
case $days in '' | *[!0-9]*) fail "IDENTITY_CERTIFICATE_DAYS must be a number of days, got '$days'" ;; esac
case $cn in *[!A-Za-z0-9.-]*) fail "IDENTITY_CERTIFICATE_CN must be a host name, got '$cn'" ;; esac
command -v openssl >/dev/null 2>&1 || fail "this image has no openssl: the certificate job needs one that has (the database's image does)"
dir=${pfx%/*}
[ -d "$dir" ] && [ -w "$dir" ] || fail "$dir is not a writable directory (the certificate volume)"

if [ -f "$pfx" ]; then
  if openssl pkcs12 -in "$pfx" -passin pass: -nokeys 2>/dev/null | openssl x509 -noout -checkend 2592000 >/dev/null 2>&1; then
    echo "creatio-farm: keeping the signing certificate in $pfx ($(openssl pkcs12 -in "$pfx" -passin pass: -nokeys 2>/dev/null | openssl x509 -noout -enddate))"
    exit 0
  fi
  echo "creatio-farm: the signing certificate in $pfx is unreadable or expires within 30 days: making a new one"
fi

work=$(mktemp -d "$dir/.new.XXXXXX") || fail "cannot create a work directory in $dir"
trap 'rm -rf "$work"' EXIT
umask 077
openssl req -x509 -newkey rsa:3072 -sha256 -nodes -days "$days" -subj "/CN=$cn" \
  -keyout "$work/key.pem" -out "$work/certificate.pem" 2>/dev/null || fail "openssl could not make a key and certificate"
openssl pkcs12 -export -inkey "$work/key.pem" -in "$work/certificate.pem" -passout pass: -out "$work/identity.pfx" \
  || fail "openssl could not write the PKCS#12 file"
# Readable by the service whatever user it runs as; the volume is mounted into the service alone, read-only.
chmod 0444 "$work/identity.pfx"
mv -f "$work/identity.pfx" "$pfx" || fail "cannot put the new certificate in place"
echo "creatio-farm: made a new signing certificate in $pfx ($(openssl x509 -in "$work/certificate.pem" -noout -enddate), sha256 $(openssl x509 -in "$work/certificate.pem" -noout -fingerprint -sha256 | cut -d= -f2))"
