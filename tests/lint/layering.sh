#!/usr/bin/env bash
# Layering rules (STYLE.md 3.1): storage/ and crypto/ never include each other, libmicrohttpd or
# libxml2; common/ includes no other layer; only server/ speaks HTTP and XML.
set -u
root=${1:?source root}
fail=0
check() { # dir pattern why
    local hits
    hits=$(grep -nE "#include *[<\"]($2)" "$root/$1"/*.[ch] 2>/dev/null)
    if [[ -n "$hits" ]]; then
        echo "layering: $1/ $3:"
        echo "$hits"
        fail=1
    fi
}
check storage 'crypto/|server/|microhttpd|libxml/|openssl/' "must not include crypto, server, HTTP, XML or OpenSSL"
check crypto 'storage/|server/|microhttpd|libxml/|sqlite3' "must not include storage, server, HTTP, XML or SQLite"
check common 'crypto/|storage/|server/|microhttpd|libxml/|openssl/|sqlite3' "is a leaf"
if ((fail)); then

    exit 1
fi
echo "layering: ok"
