# patch-webhost-config.awk -- creatio-farm start-up patch for Terrasoft.WebHost.dll.config
#
#   awk -v tenant_id=1 -f patch-webhost-config.awk Terrasoft.WebHost.dll.config > out
#
# What it does (everything else is copied byte for byte):
#   * In every <quartz> block that is a direct child of <quartzConfig>, makes sure
#       quartz.jobStore.clustered                 = true
#       quartz.jobStore.acquireTriggersWithinLock = true
#       quartz.scheduler.instanceId               = AUTO
#     An existing <add key=...> (any attribute order, ' or " quotes, any whitespace,
#     self-closing or not, key matched case-insensitively like .NET's
#     NameValueCollection does) only gets its value attribute rewritten. A missing
#     key is inserted as a new line just before that block's </quartz>, indented like
#     the block's other <add> lines, with the file's line ending (CRLF stays CRLF).
#     A key present twice in one block has BOTH occurrences set (nothing is removed).
#     .NET reads these collections in order: a later <remove key=...> of a cluster key,
#     or a <clear/>, cancels what came before it, so the key is inserted again after
#     it (before </quartz>) and is in force whatever the block says earlier.
#   * In <appSettings> (child of the root element), TenantId gets value=tenant_id:
#     an existing key is rewritten, a missing one is inserted before </appSettings>
#     (what Creatio's `configureWebFarmMode` does on .NET, where this file is the only
#     config); a later <remove key="TenantId"/> or <clear/> gets it inserted again at
#     the end. Without an <appSettings> element a one-line note goes to stderr.
#   * With -v auth_providers=A,B (a portal node set), the <auth> element of <terrasoft>
#     gets providerNames="A,B" and autoLoginProviderNames="" (attributes added when
#     missing), so only those providers can open sessions on the node. Each must be
#     defined as a <provider name=...> of that <auth>'s <providers>, else it fails.
#   * With -v sau_password_file=F, UserManagementSauPassword in <appSettings> gets the
#     password in F (letters and digits only; first line): rewritten or inserted like
#     TenantId. The distribution ships a fixed, public value there. Fails when it cannot
#     be set: no <appSettings> of the root's own, or one with configSource/file.
#   * With -v require_redis_stores=1 (the entrypoint passes it), checks that the
#     stores `configureWebFarmMode` moves to Redis are Redis-backed: the Application
#     level of <storeDataAdapters>, the Workspace and Application levels of
#     <storeCacheAdapters> (children of <terrasoft>). Nothing is rewritten there.
#   * <!-- comments -->, CDATA and processing instructions are skipped, so commented
#     out keys/blocks are never touched.
#
# Fails closed (message on stderr starting with "creatio-farm:", exit 2, nothing on
# stdout) when: tenant_id is not a positive integer, there is no <quartzConfig>, it
# has no <quartz> block, a <quartz/> block is self-closing, tags are unbalanced or a
# close tag / <add> cannot be parsed, a comment/tag is unterminated, or (with
# require_redis_stores) a store is missing or not Redis-backed; with auth_providers, when
# the list is malformed, there is no <auth> in <terrasoft> or a provider is not defined;
# with sau_password_file, when the file is unreadable, empty or not alphanumeric. A node running
# non-clustered Quartz would double-fire jobs, and a node with its own in-memory
# application store would serve stale data, so refusing to start is correct.
#
# Idempotent: running it on its own output yields identical bytes.
# Portable: POSIX awk only (tested with mawk, gawk and busybox awk).

BEGIN {
    # XML 1.0 forbids U+0001, so with RS="\001" the whole file is a single record
    # and the presence/absence of the final newline is preserved exactly.
    RS = "\001"
    FS = "\001"
    KEY[1] = "quartz.jobStore.clustered";                 VAL[1] = "true"
    KEY[2] = "quartz.jobStore.acquireTriggersWithinLock"; VAL[2] = "true"
    KEY[3] = "quartz.scheduler.instanceId";               VAL[3] = "AUTO"
    NKEY = 3
}

{ data = (NR == 1) ? $0 : data "\001" $0 }

function fail(msg) {
    printf "creatio-farm: %s\n", msg > "/dev/stderr"
    exit 2
}

function note(msg) {
    printf "creatio-farm: %s\n", msg > "/dev/stderr"
}

# Line number (in the input) of the "<" that starts part[i].
function lineno(i,    raw, n, j, t) {
    split(data, raw, "<")
    n = 1
    for (j = 1; j < i; j++) { t = raw[j]; n += gsub(/\n/, "", t) }
    return n
}

# Skip a construct that starts in part[i] at offset off and ends with term.
# Returns the index of the part in which it ends.
function skip_until(i, off, term, what,    j) {
    if (index(substr(part[i], off), term)) return i
    for (j = i + 1; j <= np; j++)
        if (index(part[j], term)) return j
    fail("unterminated " what " starting at line " lineno(i) " of " src)
}

# Parse the attributes of tag (text after "<", up to and including ">").
# Sets na, an[], avs[] (value start), avl[] (value length), aqe[] (closing quote).
# Returns 1 on success, 0 if the tag is not well-formed.
function parse_attrs(tag,    pos, rest, q, e) {
    na = 0
    if (!match(tag, /^[^ \t\r\n\/>]+/)) return 0
    pos = RLENGTH + 1
    while (1) {
        rest = substr(tag, pos)
        if (match(rest, /^[ \t\r\n]*\/?>$/)) return 1
        if (!match(rest, /^[ \t\r\n]+/)) return 0
        pos += RLENGTH
        rest = substr(tag, pos)
        if (!match(rest, /^[^ \t\r\n=\/>"']+/)) return 0
        na++
        an[na] = substr(rest, 1, RLENGTH)
        pos += RLENGTH
        rest = substr(tag, pos)
        if (!match(rest, /^[ \t\r\n]*=[ \t\r\n]*/)) return 0
        pos += RLENGTH
        q = substr(tag, pos, 1)
        if (q != "\"" && q != "'") return 0
        e = index(substr(tag, pos + 1), q)
        if (!e) return 0
        avs[na] = pos + 1
        avl[na] = e - 1
        aqe[na] = pos + e
        pos = pos + e + 1
    }
}

function attr_index(nm,    k) {
    for (k = 1; k <= na; k++) if (an[k] == nm) return k
    return 0
}

# Return tag with its value attribute set to v (keeping the quote character);
# if there is no value attribute, one is added right after the key attribute.
# Requires parse_attrs(tag) to have been called.
function set_value(tag, v,    kv, kk) {
    kv = attr_index("value")
    if (kv) return substr(tag, 1, avs[kv] - 1) v substr(tag, avs[kv] + avl[kv])
    kk = attr_index("key")
    return substr(tag, 1, aqe[kk]) " value=\"" v "\"" substr(tag, aqe[kk] + 1)
}

# Return tag with attribute nm set to v: rewritten in place, or added after the element
# name when missing. Parses tag itself.
function set_attr(i, tag, nm, v,    k) {
    if (!parse_attrs(tag)) fail("cannot parse <" substr(tag, 1, 20) " at line " lineno(i) " of " src)
    k = attr_index(nm)
    if (k) return substr(tag, 1, avs[k] - 1) v substr(tag, avs[k] + avl[k])
    match(tag, /^[^ \t\r\n\/>]+/)
    return substr(tag, 1, RLENGTH) " " nm "=\"" v "\"" substr(tag, RLENGTH + 1)
}

# part[i] is the <auth ...> of <terrasoft>: only the listed providers may sign users in.
function auth_element(i, tag, tail) {
    tag = set_attr(i, tag, "providerNames", auth_providers)
    tag = set_attr(i, tag, "autoLoginProviderNames", "")
    part[i] = tag tail
    nauth++
}

# part[i] is a <provider ...> of the <auth>'s <providers>.
function auth_provider(i, tag,    kn) {
    if (!parse_attrs(tag)) fail("cannot parse <provider> at line " lineno(i) " of " src)
    kn = attr_index("name")
    if (kn) defined_provider[substr(tag, avs[kn], avl[kn])] = 1
}

# part[i] is an <add ...> that is a direct child of a quartz block.
function quartz_add(i, tag, tail,    kk, k, lk) {
    if (!parse_attrs(tag)) fail("cannot parse <add> at line " lineno(i) " of " src)
    if (!qhasind && match(part[i - 1], /\n[ \t]*$/)) {
        qind = substr(part[i - 1], RSTART + 1)
        qhasind = 1
    }
    kk = attr_index("key")
    if (!kk) return
    lk = tolower(substr(tag, avs[kk], avl[kk]))
    for (k = 1; k <= NKEY; k++) {
        if (lk == tolower(KEY[k])) {
            found[k]++
            part[i] = set_value(tag, VAL[k]) tail
            return
        }
    }
}

# part[i] is a <remove .../> or <clear/> that is a direct child of a quartz block: a
# cluster key set before it is no longer in force, so it is inserted again at the end.
function quartz_remove(i, tag, clear,    kk, k, lk) {
    if (!parse_attrs(tag)) fail("cannot parse <" (clear ? "clear" : "remove") "> at line " lineno(i) " of " src)
    if (clear) { for (k = 1; k <= NKEY; k++) found[k] = 0; return }
    kk = attr_index("key")
    if (!kk) return
    lk = tolower(substr(tag, avs[kk], avl[kk]))
    for (k = 1; k <= NKEY; k++) if (lk == tolower(KEY[k])) found[k] = 0
}

# The same for TenantId in <appSettings>.
function appsettings_remove(i, tag, clear,    kk) {
    if (!parse_attrs(tag)) fail("cannot parse <" (clear ? "clear" : "remove") "> at line " lineno(i) " of " src)
    if (clear) { tenant_seen = 0; sau_seen = 0; return }
    kk = attr_index("key")
    if (kk && tolower(substr(tag, avs[kk], avl[kk])) == "tenantid") tenant_seen = 0
    if (kk && tolower(substr(tag, avs[kk], avl[kk])) == "usermanagementsaupassword") sau_seen = 0
}

# part[i] is an <add ...> that is a direct child of <appSettings>.
function appsettings_add(i, tag, tail,    kk, lk) {
    if (!parse_attrs(tag)) fail("cannot parse <add> at line " lineno(i) " of " src)
    if (!ahasind && match(part[i - 1], /\n[ \t]*$/)) {
        aind = substr(part[i - 1], RSTART + 1)
        ahasind = 1
    }
    kk = attr_index("key")
    if (!kk) return
    lk = tolower(substr(tag, avs[kk], avl[kk]))
    if (lk == "tenantid") {
        tenant_seen++
        part[i] = set_value(tag, tenant_id) tail
    } else if (lk == "usermanagementsaupassword" && sau_password != "") {
        sau_seen++
        sau_done++
        part[i] = set_value(tag, sau_password) tail
    }
}

# Inserts the n elements el[1..n] before the close tag in part[i]: as lines indented
# like their siblings (sind, when hasind) when the close tag starts its line, else inline.
function insert_before_close(i, n, hasind, sind,    prev, k, ind, cind, ins) {
    if (!n) return
    prev = part[i - 1]
    ins = ""
    if (match(prev, /\n[ \t]*$/)) {
        cind = substr(prev, RSTART + 1)
        ind = hasind ? sind : cind (cind ~ /\t/ ? "\t" : "  ")
        for (k = 1; k <= n; k++) ins = ins ind el[k] eol
        part[i - 1] = substr(prev, 1, RSTART) ins cind
    } else {
        for (k = 1; k <= n; k++) ins = ins el[k]
        part[i - 1] = prev ins
    }
}

# part[i] is the </quartz> closing a quartz block: insert the missing keys.
function finish_block(i,    k, n) {
    n = 0
    for (k = 1; k <= NKEY; k++)
        if (!found[k]) el[++n] = "<add key=\"" KEY[k] "\" value=\"" VAL[k] "\" />"
    insert_before_close(i, n, qhasind, qind)
}

# part[i] is the </appSettings> closing the root's appSettings: insert TenantId (and
# UserManagementSauPassword, when given) if missing.
function finish_appsettings(i,    n) {
    n = 0
    if (!tenant_seen) el[++n] = "<add key=\"TenantId\" value=\"" tenant_id "\" />"
    if (sau_password != "" && !sau_seen) { el[++n] = "<add key=\"UserManagementSauPassword\" value=\"" sau_password "\" />"; sau_done++ }
    insert_before_close(i, n, ahasind, aind)
    tenant_seen = 1
    sau_seen = 1
}

# part[i] is a <storeAdapter ...> child of <storeDataAdapters>/<storeCacheAdapters>.
function store_adapter(i, tag, section,    kl, kt) {
    if (!parse_attrs(tag)) fail("cannot parse <storeAdapter> at line " lineno(i) " of " src)
    kl = attr_index("levelName")
    kt = attr_index("type")
    if (!kl) return
    store[section "/" substr(tag, avs[kl], avl[kl])] = kt ? substr(tag, avs[kt], avl[kt]) : ""
}

function check_store(key,    type) {
    if (!(key in store)) fail("no " key " store adapter in " src "; a web-farm node keeps it in Redis (Creatio's configureWebFarmMode sets it)")
    type = store[key]
    sub(/,.*/, "", type)
    if (type !~ /Redis/)
        fail(key " store adapter is " store[key] " in " src ", not a Redis store: every node would keep its own copy (Creatio's configureWebFarmMode sets it)")
}

function close_el(i, tag,    nm) {
    if (tag !~ /^\/[^ \t\r\n\/>]+[ \t\r\n]*>$/)
        fail("unrecognizable close tag <" tag " at line " lineno(i) " of " src)
    match(tag, /^\/[^ \t\r\n\/>]+/)
    nm = substr(tag, 2, RLENGTH - 1)
    if (depth == 0 || stk[depth] != nm)
        fail("unexpected </" nm "> at line " lineno(i) " of " src \
             (depth ? " (expected </" stk[depth] ">)" : ""))
    if (qd && depth == qd) { finish_block(i); qd = 0 }
    if (qc && depth == qc) qc = 0
    if (as && depth == as) { finish_appsettings(i); as = 0 }
    if (ts && depth == ts) ts = 0
    if (au && depth == au) au = 0
    if (ap && depth == ap) ap = 0
    if (sd && depth == sd) { sd = 0; ssec = "" }
    depth--
}

END {
    src = (FILENAME != "" && FILENAME != "-") ? FILENAME : "input"
    if (tenant_id !~ /^[1-9][0-9]*$/)
        fail("tenant_id must be a positive integer (got '" tenant_id "')")
    if (auth_providers != "" && auth_providers !~ /^[A-Za-z][A-Za-z0-9]*(,[A-Za-z][A-Za-z0-9]*)*$/)
        fail("auth_providers must be provider names separated by commas (got '" auth_providers "')")
    sau_password = ""
    if (sau_password_file != "") {
        if ((getline sau_password < sau_password_file) <= 0)
            fail("cannot read the UserManagementSauPassword from " sau_password_file)
        close(sau_password_file)
        # RS is \001 here: the record is the whole file; its first line is the password.
        sub(/[\r\n].*$/, "", sau_password)
        # Never echoed: the message names the file, not its content.
        if (sau_password !~ /^[A-Za-z0-9]+$/)
            fail("the UserManagementSauPassword in " sau_password_file " must be letters and digits only")
    }

    eol = "\n"
    i = index(data, "\n")
    if (i > 1 && substr(data, i - 1, 1) == "\r") eol = "\r\n"

    np = split(data, part, "<")
    depth = 0; qc = 0; qd = 0; as = 0; nqc = 0; nblk = 0; tenant_seen = 0; nas = 0
    ts = 0; sd = 0; ssec = ""; ahasind = 0; aind = ""; au = 0; ap = 0; nauth = 0; sau_seen = 0; sau_done = 0
    for (i = 2; i <= np; i++) {
        p = part[i]
        if (substr(p, 1, 3) == "!--")      { i = skip_until(i, 4, "-->", "comment"); continue }
        if (substr(p, 1, 8) == "![CDATA[") { i = skip_until(i, 9, "]]>", "CDATA section"); continue }
        if (substr(p, 1, 1) == "?")        { i = skip_until(i, 2, "?>", "processing instruction"); continue }
        if (substr(p, 1, 1) == "!")        { i = skip_until(i, 2, ">", "declaration"); continue }

        if (!match(p, /^[^"'>]*("[^"]*"[^"'>]*|'[^']*'[^"'>]*)*>/))
            fail("unterminated tag at line " lineno(i) " of " src)
        tag = substr(p, 1, RLENGTH)
        tail = substr(p, RLENGTH + 1)

        if (substr(tag, 1, 1) == "/") { close_el(i, tag); continue }

        if (!match(tag, /^[A-Za-z_:][-A-Za-z0-9_:.]*/))
            fail("unrecognizable tag at line " lineno(i) " of " src)
        name = substr(tag, 1, RLENGTH)
        selfclose = (tag ~ /\/>$/)
        lvl = depth + 1

        if (name == "quartzConfig") {
            if (qc) fail("nested <quartzConfig> at line " lineno(i) " of " src)
            nqc++
            if (!selfclose) qc = lvl
        } else if (name == "quartz" && qc && lvl == qc + 1) {
            if (selfclose)
                fail("self-closing <quartz/> block at line " lineno(i) " of " src \
                     ": no </quartz> to insert the cluster keys before")
            nblk++
            qd = lvl; qhasind = 0; qind = ""
            for (k = 1; k <= NKEY; k++) found[k] = 0
        } else if (name == "add" && qd && lvl == qd + 1) {
            quartz_add(i, tag, tail)
        } else if ((name == "remove" || name == "clear") && qd && lvl == qd + 1) {
            quartz_remove(i, tag, name == "clear")
        } else if (name == "appSettings" && lvl == 2) {
            # .NET reads appSettings from configSource/file instead of (or over) this element: a replaced password
            # here would not be the one in force.
            if (sau_password != "" && parse_attrs(tag) && (attr_index("configSource") || attr_index("file")))
                fail("<appSettings> at line " lineno(i) " of " src " takes its keys from another file; refusing to start without the generated UserManagementSauPassword in force")
            if (!selfclose) { nas++; as = lvl }
        } else if (name == "add" && as && lvl == as + 1) {
            appsettings_add(i, tag, tail)
        } else if ((name == "remove" || name == "clear") && as && lvl == as + 1) {
            appsettings_remove(i, tag, name == "clear")
        } else if (name == "terrasoft" && lvl == 2) {
            if (!selfclose) ts = lvl
        } else if (name == "auth" && ts && lvl == ts + 1 && auth_providers != "") {
            auth_element(i, tag, tail)
            if (!selfclose) au = lvl
        } else if (name == "providers" && au && lvl == au + 1) {
            if (!selfclose) ap = lvl
        } else if (name == "provider" && ap && lvl == ap + 1) {
            auth_provider(i, tag)
        } else if ((name == "storeDataAdapters" || name == "storeCacheAdapters") && ts && lvl == ts + 1) {
            if (!selfclose) { sd = lvl; ssec = name }
        } else if (name == "storeAdapter" && sd && lvl == sd + 1) {
            store_adapter(i, tag, ssec)
        }

        if (!selfclose) { depth = lvl; stk[depth] = name }
    }

    if (depth) fail("<" stk[depth] "> is never closed in " src)
    if (!nqc) fail("no <quartzConfig> element in " src "; refusing to start a farm node with unknown Quartz settings")
    if (!nblk) fail("no <quartz> block inside <quartzConfig> in " src "; refusing to start a farm node with unknown Quartz settings")
    if (!nas) note("note: no <appSettings> element in " src "; TenantId not set")
    if (sau_password != "" && !sau_done)
        fail("UserManagementSauPassword could not be set in " src " (no <appSettings> of its own); refusing to start with the distribution's public one")
    if (auth_providers != "") {
        if (!nauth) fail("no <auth> element in <terrasoft> of " src "; refusing to start a node whose sign-in providers cannot be limited")
        if (nauth > 1) fail("more than one <auth> element in <terrasoft> of " src)
        nprov = split(auth_providers, provs, ",")
        for (k = 1; k <= nprov; k++)
            if (!(provs[k] in defined_provider))
                fail("auth provider " provs[k] " is not defined in <auth><providers> of " src)
    }
    if (require_redis_stores == 1) {
        check_store("storeDataAdapters/Application")
        check_store("storeCacheAdapters/Workspace")
        check_store("storeCacheAdapters/Application")
    }

    printf "%s", part[1]
    for (i = 2; i <= np; i++) printf "<%s", part[i]
}
