# merge-appsettings.awk -- creatio-farm start-up merge of an overlay into appsettings.json
#
#   awk -f merge-appsettings.awk appsettings.farm.json appsettings.json > out
#
# The overlay (first file) is a JSON object. Each of its TOP-LEVEL members replaces
# the value of the same top-level member of appsettings.json (the whole value, no
# deep merge) or, if absent, is appended as a new last member. Member names are
# compared the way Microsoft.Extensions.Configuration reads them: case-insensitively,
# with JSON escapes decoded ("Forwarded\u0048eaders" is ForwardedHeaders); the name
# already in appsettings.json keeps its spelling. A name that only occurs at a nested
# level is never touched. If a name occurs twice at the top level, both values are
# replaced. A top-level name that reaches inside an overlay member by configuration
# path ("ForwardedHeaders:KnownNetworks") would override the merged value: refused.
#
#   awk -v check_only=1 -f merge-appsettings.awk appsettings.farm.json appsettings.Production.json
#
# checks a file that .NET reads after appsettings.json (appsettings.<environment>.json):
# it may not set an overlay member, whole or by path. Prints nothing; exit 0 or 2.
#
# Everything else in appsettings.json keeps its bytes: a UTF-8 BOM, CRLF line endings
# (inserted text uses the file's line ending), whitespace, //- and /* */-comments and
# a trailing comma (both accepted by .NET's JSON configuration reader). Multi-line
# overlay values are re-indented from the overlay's member indentation to the
# target's.
#
# Fails closed (stderr line starting with "creatio-farm:", exit 2, nothing on stdout)
# if either file is not a single JSON object, or has unbalanced brackets/braces, an
# unterminated string or comment, or a malformed top-level member.
#
# Idempotent: merging the same overlay into the output again yields identical bytes.
# Portable: POSIX awk only (tested with mawk, gawk and busybox awk).

BEGIN {
    # JSON forbids raw U+0001, so each file is read as one record, byte-exact.
    RS = "\001"
    FS = "\001"
    BOM = "\357\273\277"
    if (ARGC != 3) {
        printf "creatio-farm: usage: awk -f merge-appsettings.awk overlay.json appsettings.json\n" > "/dev/stderr"
        bad_usage = 1
        exit 2
    }
    if (ARGV[1] == ARGV[2]) {
        printf "creatio-farm: overlay and target must be different files\n" > "/dev/stderr"
        bad_usage = 1
        exit 2
    }
}

FILENAME == ARGV[1] { ovl = (ovn++) ? ovl "\001" $0 : $0; next }
                    { tgt = (tgn++) ? tgt "\001" $0 : $0 }

function fail(msg) {
    printf "creatio-farm: %s\n", msg > "/dev/stderr"
    exit 2
}

# A member name as .NET sees it: \uXXXX of printable ASCII and \" \\ \/ decoded; any
# other escape is kept as written (it cannot spell an overlay member's name).
function json_name(raw,    out, i, n, c, h, v) {
    out = ""
    n = length(raw)
    for (i = 1; i <= n; i++) {
        c = substr(raw, i, 1)
        if (c != "\\") { out = out c; continue }
        c = substr(raw, ++i, 1)
        if (c == "u") {
            h = tolower(substr(raw, i + 1, 4))
            v = hexval(h)
            i += 4
            if (v >= 32 && v < 127) out = out sprintf("%c", v)
            else out = out "\\u" h
        } else if (c == "\"" || c == "\\" || c == "/") out = out c
        else out = out "\\" c
    }
    return out
}

function hexval(h,    i, d, v) {
    if (length(h) != 4) return -1
    v = 0
    for (i = 1; i <= 4; i++) {
        d = index("0123456789abcdef", substr(h, i, 1))
        if (!d) return -1
        v = v * 16 + d - 1
    }
    return v
}

# Fails when target member t reaches inside overlay member m by a configuration path.
function no_path_override(t, what,    m, lk) {
    lk = tolower(json_name(TK[t]))
    for (m = 1; m <= OINFO["count"]; m++)
        if (index(lk, olow[m] ":") == 1)
            fail(what ": member \"" TK[t] "\" would override the farm's " OK[m] " (set by creatio-farm); remove it")
}

function lineof(s, i,    t) {
    t = substr(s, 1, i)
    return gsub(/\n/, "", t) + 1
}

# At a "/" (outside strings): return the index of the last character of the
# comment that starts there, or 0 if it is not a (terminated) comment.
function skip_comment(s, j,    c, e) {
    c = substr(s, j + 1, 1)
    if (c == "/") {
        e = index(substr(s, j + 2), "\n")
        return e ? j + e : SN
    }
    if (c == "*") {
        e = index(substr(s, j + 2), "*/")
        return e ? j + e + 2 : 0
    }
    return 0
}

# First index >= i that is not whitespace or a comment (SN + 1 at the end).
function ws(s, i, what,    c, j) {
    while (i <= SN) {
        c = substr(s, i, 1)
        if (c == " " || c == "\t" || c == "\r" || c == "\n") { i++; continue }
        if (c == "/") {
            j = skip_comment(s, i)
            if (!j) fail(what ": unterminated comment or stray '/' at line " lineof(s, i))
            i = j + 1
            continue
        }
        break
    }
    return i
}

# s[i] is a double quote: return the index of the closing quote, 0 if unterminated.
function scan_string(s, i,    c) {
    for (i++; i <= SN; i++) {
        c = substr(s, i, 1)
        if (c == "\\") i++
        else if (c == "\"") return i
    }
    return 0
}

# Return the index of the last character of the value starting at s[i], 0 if the
# value is unterminated, unbalanced or not a JSON scalar.
function skip_value(s, i,    c, j, d, stk, tok) {
    c = substr(s, i, 1)
    if (c == "\"") return scan_string(s, i)
    if (c == "{" || c == "[") {
        d = 0
        for (j = i; j <= SN; j++) {
            c = substr(s, j, 1)
            if (c == "\"") {
                j = scan_string(s, j)
                if (!j) return 0
            } else if (c == "{" || c == "[") {
                stk[++d] = c
            } else if (c == "}" || c == "]") {
                if (!d || stk[d] != (c == "}" ? "{" : "[")) return 0
                if (--d == 0) return j
            } else if (c == "/") {
                j = skip_comment(s, j)
                if (!j) return 0
            }
        }
        return 0
    }
    if (match(substr(s, i), /^[-+.0-9A-Za-z]+/)) {
        tok = substr(s, i, RLENGTH)
        if (tok ~ /^(true|false|null|-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?)$/)
            return i + RLENGTH - 1
    }
    return 0
}

# Parse the top-level object of s. Fills K[m] (raw name), KS[m] (index of the
# opening quote of the name), KE[m] (closing quote), VS[m]/VE[m] (value bounds) and
# INFO["open"], INFO["close"], INFO["count"], INFO["start"] (after a BOM).
function parse_object(s, what, K, KS, KE, VS, VE, INFO,    i, e, m, c) {
    SN = length(s)
    i = 1
    if (index(s, BOM) == 1) i += length(BOM)
    INFO["start"] = i
    i = ws(s, i, what)
    if (substr(s, i, 1) != "{") fail(what " is not a JSON object")
    INFO["open"] = i
    m = 0
    i = ws(s, i + 1, what)
    if (substr(s, i, 1) != "}") {
        while (1) {
            if (substr(s, i, 1) != "\"")
                fail(what ": expected a member name at line " lineof(s, i) " (unbalanced or malformed JSON)")
            e = scan_string(s, i)
            if (!e) fail(what ": unterminated string at line " lineof(s, i))
            m++
            KS[m] = i
            KE[m] = e
            K[m] = substr(s, i + 1, e - i - 1)
            i = ws(s, e + 1, what)
            if (substr(s, i, 1) != ":") fail(what ": expected ':' after \"" K[m] "\" at line " lineof(s, i))
            i = ws(s, i + 1, what)
            e = skip_value(s, i)
            if (!e) fail(what ": unbalanced or invalid value for \"" K[m] "\" at line " lineof(s, i))
            VS[m] = i
            VE[m] = e
            i = ws(s, e + 1, what)
            c = substr(s, i, 1)
            if (c == "}") break
            if (c != ",") fail(what ": expected ',' or '}' at line " lineof(s, i) " (unbalanced or malformed JSON)")
            i = ws(s, i + 1, what)
            if (substr(s, i, 1) == "}") break
        }
    }
    INFO["close"] = i
    INFO["count"] = m
    if (ws(s, i + 1, what) <= SN) fail(what ": unexpected data after the closing '}' at line " lineof(s, i + 1))
}

# Indentation of the line on which s[i] starts, if only whitespace precedes s[i]
# on that line; sets HASNL to 1 in that case, 0 otherwise (then returns "").
function indent_before(s, from, i,    t) {
    t = substr(s, from, i - from)
    if (match(t, /\n[ \t]*$/)) { HASNL = 1; return substr(t, RSTART + 1) }
    HASNL = 0
    return ""
}

# Overlay value m, re-indented from overlay member indent oi to ti, with eol.
function ovalue(m,    v, L, n, j, out) {
    v = substr(ovl, OVS[m], OVE[m] - OVS[m] + 1)
    gsub(/\r/, "", v)
    n = split(v, L, "\n")
    out = L[1]
    for (j = 2; j <= n; j++) {
        if (oi != "" && substr(L[j], 1, length(oi)) == oi) L[j] = ti substr(L[j], length(oi) + 1)
        out = out eol L[j]
    }
    return out
}

END {
    if (bad_usage) exit 2
    if (!ovn) fail(ARGV[1] " is empty; expected a JSON object")
    if (!tgn) fail(ARGV[2] " is empty; expected a JSON object")

    parse_object(ovl, ARGV[1], OK, OKS, OKE, OVS, OVE, OINFO)
    oi = OINFO["count"] ? indent_before(ovl, OINFO["open"] + 1, OKS[1]) : ""

    parse_object(tgt, ARGV[2], TK, TKS, TKE, TVS, TVE, TINFO)
    tn = TINFO["count"]

    eol = "\n"
    i = index(tgt, "\n")
    if (i > 1 && substr(tgt, i - 1, 1) == "\r") eol = "\r\n"

    if (tn) {
        ti = indent_before(tgt, TINFO["open"] + 1, TKS[1])
        lined = HASNL
        sep = substr(tgt, TKE[1] + 1, TVS[1] - TKE[1] - 1)
        if (sep !~ /^[ \t]*:[ \t]*$/) sep = ": "
    } else {
        ti = (oi != "") ? oi : "  "
        lined = 1
        sep = ": "
    }

    for (m = 1; m <= OINFO["count"]; m++) { olow[m] = tolower(json_name(OK[m])); used[m] = 0 }

    if (check_only == 1) {
        for (t = 1; t <= tn; t++) {
            no_path_override(t, ARGV[2])
            lk = tolower(json_name(TK[t]))
            for (m = 1; m <= OINFO["count"]; m++)
                if (olow[m] == lk)
                    fail(ARGV[2] ": member \"" TK[t] "\" would override the farm's " OK[m] " (set by creatio-farm in appsettings.json); remove it")
        }
        exit 0
    }

    # before anything is printed: a refusal leaves stdout empty
    for (t = 1; t <= tn; t++) no_path_override(t, ARGV[2])

    pos = 1
    for (t = 1; t <= tn; t++) {
        lk = tolower(json_name(TK[t]))
        hit = 0
        for (m = OINFO["count"]; m >= 1; m--) if (olow[m] == lk) { hit = m; break }
        if (!hit) continue
        used[hit] = 1
        printf "%s%s", substr(tgt, pos, TVS[t] - pos), ovalue(hit)
        pos = TVE[t] + 1
    }

    # members of the overlay that appsettings.json does not have: append them
    add = ""
    for (m = 1; m <= OINFO["count"]; m++) {
        if (used[m]) continue
        dup = 0
        for (k = m + 1; k <= OINFO["count"]; k++) if (olow[k] == olow[m]) dup = 1
        if (dup) continue
        if (lined) add = add ((tn || add != "") ? "," : "") eol ti "\"" OK[m] "\"" sep ovalue(m)
        else       add = add ((tn || add != "") ? ", " : " ") "\"" OK[m] "\"" sep ovalue(m)
    }

    if (add == "") {
        printf "%s", substr(tgt, pos)
    } else if (tn) {
        printf "%s%s%s", substr(tgt, pos, TVE[tn] + 1 - pos), add, substr(tgt, TVE[tn] + 1)
    } else {
        inner = substr(tgt, TINFO["open"] + 1, TINFO["close"] - TINFO["open"] - 1)
        printf "%s%s%s%s%s", substr(tgt, 1, TINFO["open"]), add, inner, (inner ~ /\n/ ? "" : eol), substr(tgt, TINFO["close"])
    }
}
