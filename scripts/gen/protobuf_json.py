#!/usr/bin/env python3
"""Generates crates/berth-apiserver/src/protobuf/types.rs: prost message -> Kubernetes JSON converters.

Reads the Go API types (json tags, pointer-ness, field order) of Kubernetes 1.35 and the
k8s-pb 0.9 prost structs (field names by protobuf tag), and writes one converter per Go
struct reachable from ROOTS below, applying Go's encoding/json rules.

usage: python3 scripts/gen/protobuf_json.py <go root> <k8s-pb src dir> <out.rs>
  <go root>/api/<group>/<version>/*.go   from github.com/kubernetes/api at v0.35.0
  <go root>/am/pkg/apis/meta/v1/*.go     from github.com/kubernetes/apimachinery at v0.35.0
  <k8s-pb src dir>                      ~/.cargo/registry/src/*/k8s-pb-0.9.0/src
then: rustfmt --edition 2024 --config-path rustfmt.toml <out.rs>
To decode another kind, add it to ROOTS (and its package to PKGS) and regenerate.
"""
import os
import re
import sys

GO_ROOT, PB_SRC, OUT = sys.argv[1:4]

# Go package key -> (dir under GO_ROOT, rust module path, rust alias, fn prefix)
PKGS = {
    "core/v1": ("api/core/v1", "k8s_pb::api::core::v1", "core_v1"),
    "apps/v1": ("api/apps/v1", "k8s_pb::api::apps::v1", "apps_v1"),
    "autoscaling/v1": ("api/autoscaling/v1", "k8s_pb::api::autoscaling::v1", "autoscaling_v1"),
    "storage/v1": ("api/storage/v1", "k8s_pb::api::storage::v1", "storage_v1"),
    "events/v1": ("api/events/v1", "k8s_pb::api::events::v1", "events_v1"),
    "coordination/v1": ("api/coordination/v1", "k8s_pb::api::coordination::v1", "coordination_v1"),
    "rbac/v1": ("api/rbac/v1", "k8s_pb::api::rbac::v1", "rbac_v1"),
    "authorization/v1": ("api/authorization/v1", "k8s_pb::api::authorization::v1", "authorization_v1"),
    "authentication/v1": ("api/authentication/v1", "k8s_pb::api::authentication::v1", "authentication_v1"),
    "meta/v1": ("am/pkg/apis/meta/v1", "k8s_pb::apimachinery::pkg::apis::meta::v1", "meta_v1"),
}
IMPORTS = {
    "k8s.io/api/core/v1": "core/v1",
    "k8s.io/apimachinery/pkg/apis/meta/v1": "meta/v1",
}
# types with hand-written converters (in mod.rs's sibling `wire.rs`): Go qualified name -> kind
SPECIAL = {
    ("meta/v1", "Time"): "time",
    ("meta/v1", "MicroTime"): "microtime",
    ("meta/v1", "Duration"): "duration",
    ("meta/v1", "FieldsV1"): "fieldsv1",
    ("meta/v1", "TypeMeta"): "typemeta",
    ("resource", "Quantity"): "quantity",
    ("intstr", "IntOrString"): "intorstring",
    ("runtime", "RawExtension"): "rawextension",
    ("types", "UID"): "string",
}
SPECIAL_FN = {
    "time": "time",
    "microtime": "micro_time",
    "duration": "duration",
    "fieldsv1": "fields_v1",
    "quantity": "quantity",
    "intorstring": "int_or_string",
    "rawextension": "raw_extension",
}
SPECIAL_RUST = {
    "time": "meta_v1::Time",
    "microtime": "meta_v1::MicroTime",
    "duration": "meta_v1::Duration",
    "fieldsv1": "meta_v1::FieldsV1",
    "quantity": "resource::Quantity",
    "intorstring": "intstr::IntOrString",
    "rawextension": "runtime::RawExtension",
}

ROOTS = [
    # (Go package, kind, apiVersion)
    ("core/v1", "Namespace", "v1"),
    ("core/v1", "ConfigMap", "v1"),
    ("core/v1", "Secret", "v1"),
    ("core/v1", "ServiceAccount", "v1"),
    ("core/v1", "Service", "v1"),
    ("core/v1", "ResourceQuota", "v1"),
    ("core/v1", "LimitRange", "v1"),
    ("core/v1", "Pod", "v1"),
    ("core/v1", "Binding", "v1"),
    ("core/v1", "Endpoints", "v1"),
    ("core/v1", "Event", "v1"),
    ("core/v1", "Node", "v1"),
    ("core/v1", "PersistentVolume", "v1"),
    ("core/v1", "PersistentVolumeClaim", "v1"),
    ("apps/v1", "StatefulSet", "apps/v1"),
    ("apps/v1", "ControllerRevision", "apps/v1"),
    ("autoscaling/v1", "Scale", "autoscaling/v1"),
    ("storage/v1", "StorageClass", "storage.k8s.io/v1"),
    ("events/v1", "Event", "events.k8s.io/v1"),
    ("coordination/v1", "Lease", "coordination.k8s.io/v1"),
    ("rbac/v1", "Role", "rbac.authorization.k8s.io/v1"),
    ("rbac/v1", "ClusterRole", "rbac.authorization.k8s.io/v1"),
    ("rbac/v1", "RoleBinding", "rbac.authorization.k8s.io/v1"),
    ("rbac/v1", "ClusterRoleBinding", "rbac.authorization.k8s.io/v1"),
    ("authorization/v1", "SelfSubjectAccessReview", "authorization.k8s.io/v1"),
    ("authorization/v1", "SelfSubjectRulesReview", "authorization.k8s.io/v1"),
    ("authorization/v1", "SubjectAccessReview", "authorization.k8s.io/v1"),
    ("authorization/v1", "LocalSubjectAccessReview", "authorization.k8s.io/v1"),
    ("authentication/v1", "SelfSubjectReview", "authentication.k8s.io/v1"),
    ("authentication/v1", "TokenReview", "authentication.k8s.io/v1"),
    ("authentication/v1", "TokenRequest", "authentication.k8s.io/v1"),
]


# ---------------------------------------------------------------- Go parsing


def strip_block_comments(src):
    return re.sub(r"/\*.*?\*/", "", src, flags=re.S)


class GoPkg:
    def __init__(self, key):
        self.key = key
        self.structs = {}  # name -> [field]
        self.named = {}  # name -> type expr
        self.imports = {}  # alias -> package key or raw path
        d = os.path.join(GO_ROOT, PKGS[key][0])
        for f in sorted(os.listdir(d)):
            if not f.endswith(".go") or f.endswith("_test.go") or "swagger" in f or "generated" in f:
                continue
            self.parse(open(os.path.join(d, f)).read())

    def parse(self, src):
        src = strip_block_comments(src)
        m = re.search(r"^import \((.*?)^\)", src, flags=re.S | re.M)
        if m:
            for line in m.group(1).splitlines():
                line = line.strip()
                mm = re.match(r'(?:(\w+)\s+)?"([^"]+)"', line)
                if not mm:
                    continue
                path = mm.group(2)
                alias = mm.group(1) or path.rsplit("/", 1)[-1]
                self.imports[alias] = IMPORTS.get(path, path.rsplit("/", 1)[-1])
        lines = src.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            m = re.match(r"^type (\w+) struct \{\s*$", line)
            if m:
                name = m.group(1)
                fields = []
                i += 1
                while not re.match(r"^\}", lines[i]):
                    fl = lines[i].strip()
                    i += 1
                    if not fl or fl.startswith("//"):
                        continue
                    fields.append(parse_field(fl))
                self.structs[name] = fields
                i += 1
                continue
            m = re.match(r"^type (\w+) (?:= )?([^{/]+?)\s*(//.*)?$", line)
            if m and not m.group(2).startswith("interface"):
                self.named[m.group(1)] = m.group(2).strip()
            i += 1


def parse_field(fl):
    m = re.match(r"^(?:(\w+)\s+)?([^`\s]+)\s*`([^`]*)`", fl)
    if not m:
        m2 = re.match(r"^(\w+)\s+([^`\s]+)\s*(//.*)?$", fl)
        if m2:  # no tags at all
            return {"name": m2.group(1), "type": m2.group(2), "json": m2.group(1), "omit": False,
                    "omitzero": False, "tag": None, "embedded": False, "skip": False}
        raise SystemExit(f"cannot parse field: {fl}")
    name, typ, tags = m.group(1), m.group(2), m.group(3)
    jm = re.search(r'json:"([^"]*)"', tags)
    pm = re.search(r'protobuf:"[a-z0-9]+,(\d+),', tags)
    jparts = jm.group(1).split(",") if jm else [name or ""]
    jname = jparts[0] or (name or "")
    return {
        "name": name,
        "type": typ,
        "json": jname,
        "omit": "omitempty" in jparts[1:],
        "omitzero": "omitzero" in jparts[1:],
        "tag": int(pm.group(1)) if pm else None,
        "embedded": name is None and jname == "",
        "skip": jname == "-",
    }


GO = {k: GoPkg(k) for k in PKGS}

# ---------------------------------------------------------------- Rust parsing


class RustField:
    def __init__(self, name, attr):
        self.name = name
        self.attr = attr
        self.boxed = "boxed" in attr
        if attr.startswith("btree_map"):
            self.shape = "map"
            self.mapval = re.search(r'btree_map = "string, (\w+)"', attr).group(1)
        elif "repeated" in attr:
            self.shape = "repeated"
        else:
            self.shape = "optional"
        self.scalar = attr.split(",")[0].split(" ")[0]


def parse_rust(modpath):
    rel = modpath.replace("k8s_pb::", "").replace("::", "/")
    src = open(os.path.join(PB_SRC, rel, "mod.rs")).read()
    structs = {}
    cur = None
    attr = None
    for line in src.splitlines():
        m = re.match(r"^pub struct (\w+) \{", line)
        if m:
            cur = {}
            structs[m.group(1)] = cur
            continue
        if line.startswith("}"):
            cur = None
            continue
        if cur is None:
            continue
        m = re.match(r"^\s+#\[prost\((.*)\)\]\s*$", line)
        if m:
            attr = m.group(1)
            continue
        m = re.match(r"^\s+pub (r#)?(\w+):", line)
        if m and attr:
            tag = int(re.search(r'tag = "(\d+)"', attr).group(1))
            cur[tag] = RustField((m.group(1) or "") + m.group(2), attr)
            attr = None
    return structs


RUST_RAW = {k: parse_rust(v[1]) for k, v in PKGS.items()}
RUST = {k: {n.lower(): v for n, v in d.items()} for k, d in RUST_RAW.items()}
RUST_NAME = {k: {n.lower(): n for n in d} for k, d in RUST_RAW.items()}


def rname(pkg, name):
    return RUST_NAME[pkg][name.lower()]

# ---------------------------------------------------------------- type resolution


def resolve(pkg, t):
    """Go type expression in package pkg -> a type descriptor tuple."""
    if t.startswith("*"):
        return ("ptr", resolve(pkg, t[1:]))
    if t == "[]byte":
        return ("bytes",)
    if t.startswith("[]"):
        return ("slice", resolve(pkg, t[2:]))
    m = re.match(r"^map\[(\w+(?:\.\w+)?)\](.+)$", t)
    if m:
        return ("map", resolve(pkg, m.group(2)))
    if t in ("string",):
        return ("string",)
    if t in ("bool",):
        return ("bool",)
    if t in ("int32", "int64", "int", "float64"):
        return (t,)
    if "." in t:
        alias, name = t.split(".")
        target = GO[pkg].imports.get(alias, alias)
    else:
        target, name = pkg, t
    if (target, name) in SPECIAL:
        return (SPECIAL[(target, name)],)
    if target not in GO:
        raise SystemExit(f"unknown package {target} for {t} in {pkg}")
    g = GO[target]
    if name in g.structs:
        return ("struct", target, name)
    if name in g.named:
        under = resolve(target, g.named[name])
        if under[0] == "slice" and name.lower() in RUST[target]:
            return ("wrapped", target, name, under)
        return under
    raise SystemExit(f"unknown type {t} in {pkg}")


# ---------------------------------------------------------------- emission


def snake(name):
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    return s.lower()


def fn_name(pkg, name):
    return f"{PKGS[pkg][2]}_{snake(name)}"


def rust_type(desc):
    if desc[0] in ("struct", "wrapped"):
        return f"{PKGS[desc[1]][2]}::{desc[2]}"
    return SPECIAL_RUST[desc[0]]


def conv_fn(desc):
    """Name of the converter for a message-shaped descriptor."""
    if desc[0] == "struct":
        want(desc[1], desc[2])
        return fn_name(desc[1], desc[2])
    if desc[0] == "wrapped":
        want_wrapped(desc)
        return fn_name(desc[1], desc[2])
    if desc[0] in SPECIAL_FN:
        USED_SPECIAL.add(desc[0])
        return f"wire::{SPECIAL_FN[desc[0]]}"
    raise SystemExit(f"no converter for {desc}")


SCALARS = {"string", "bool", "int32", "int64", "int", "float64"}
WANTED = []
SEEN = set()
USED_SPECIAL = set()
WRAPPED = {}


def want(pkg, name):
    if (pkg, name) not in SEEN:
        SEEN.add((pkg, name))
        WANTED.append((pkg, name))


def want_wrapped(desc):
    WRAPPED[(desc[1], desc[2])] = desc


def field_stmt(pkg, sname, f, rf):
    """One statement writing field f (Go) from rust field rf into `o`."""
    desc = resolve(pkg, f["type"])
    k = f'"{f["json"]}"'
    acc = f"m.{rf.name}" if rf else None
    omit = "true" if f["omit"] else "false"
    if f["embedded"]:
        if desc[0] == "typemeta":
            return None
        ref = f"{acc}.as_deref()" if rf.boxed else f"{acc}.as_ref()"
        return f"o.inline({ref}, {conv_fn(desc)})?;"
    kind = desc[0]
    if kind == "ptr":
        inner = desc[1]
        if inner[0] in SCALARS:
            return f"o.ptr({k}, &{acc}, {omit});"
        if inner[0] == "slice" or inner[0] == "map":
            raise SystemExit(f"pointer to slice/map unsupported: {sname}.{f['name']}")
        ref = f"{acc}.as_deref()" if rf.boxed else f"{acc}.as_ref()"
        return f"o.opt_msg({k}, {ref}, {conv_fn(inner)}, {omit})?;"
    if kind in SCALARS:
        return f"o.scalar({k}, &{acc}, {omit});"
    if kind == "bytes":
        return f"o.bytes({k}, &{acc}, {omit});"
    if kind == "slice":
        inner = desc[1]
        assert rf.shape == "repeated", (sname, f)
        if inner[0] in SCALARS:
            return f"o.list({k}, &{acc}, {omit});"
        return f"o.list_with({k}, &{acc}, {conv_fn(inner)}, {omit})?;"
    if kind == "map":
        inner = desc[1]
        assert rf.shape == "map", (sname, f)
        if inner[0] == "string":
            return f"o.str_map({k}, &{acc}, {omit});"
        if inner[0] == "bytes":
            return f"o.bytes_map({k}, &{acc}, {omit});"
        return f"o.map_with({k}, &{acc}, {conv_fn(inner)}, {omit})?;"
    # message-shaped, non-pointer: Go writes the zero value when unset
    ref = f"{acc}.as_deref()" if rf.boxed else f"{acc}.as_ref()"
    if f["omitzero"]:
        return f"o.msg_omitzero({k}, {ref}, {conv_fn(desc)})?;"
    return f"o.msg({k}, {ref}, {conv_fn(desc)})?;"


def zero_stmt(pkg, sname, f):
    """A Go field absent from the protobuf schema: Go writes its zero value."""
    desc = resolve(pkg, f["type"])
    if f["embedded"] or f["skip"]:
        raise SystemExit(f"unmapped embedded field {sname}.{f}")
    if f["omit"] and (desc[0] in ("ptr", "slice", "map", "bytes") or desc[0] in SCALARS):
        return None
    raise SystemExit(f"field without protobuf tag that Go would always write: {pkg} {sname}.{f['name']}")


def gen_struct(pkg, name):
    rust = RUST[pkg].get(name.lower())
    if rust is None:
        raise SystemExit(f"no rust struct for {pkg}.{name}")
    lines = [f"fn {fn_name(pkg, name)}(m: &{PKGS[pkg][2]}::{rname(pkg, name)}) -> R {{"]
    body = []
    used = set()
    for f in GO[pkg].structs[name]:
        if f["skip"]:
            continue
        if f["tag"] is None:
            if f["embedded"] and resolve(pkg, f["type"])[0] == "typemeta":
                continue
            st = zero_stmt(pkg, name, f)
        elif f["tag"] not in rust:
            # newer than the protobuf bindings: never set
            st = zero_stmt(pkg, name, f)
        else:
            used.add(f["tag"])
            st = field_stmt(pkg, name, f, rust[f["tag"]])
        if st:
            body.append(st)
    missing = set(rust) - used
    if missing:
        raise SystemExit(f"rust fields of {pkg}.{name} not covered: {[rust[t].name for t in missing]}")
    if body:
        lines.append("    let mut o = Obj::default();")
        lines += ["    " + b for b in body]
        lines.append("    Ok(o.into_value())")
    else:
        lines[0] = f"fn {fn_name(pkg, name)}(_m: &{PKGS[pkg][2]}::{rname(pkg, name)}) -> R {{"
        lines.append("    Ok(Obj::default().into_value())")
    lines.append("}")
    return "\n".join(lines)


def gen_wrapped(desc):
    _, pkg, name, under = desc
    rust = RUST[pkg][name.lower()]
    (rf,) = rust.values()
    assert under[1][0] in SCALARS
    return "\n".join([
        f"fn {fn_name(pkg, name)}(m: &{PKGS[pkg][2]}::{rname(pkg, name)}) -> R {{",
        f"    Ok(wire::list_or_null(&m.{rf.name}))",
        "}",
    ])


def main():
    out = []
    for pkg, kind, _ in ROOTS:
        want(pkg, kind)
    i = 0
    while i < len(WANTED):
        pkg, name = WANTED[i]
        out.append(gen_struct(pkg, name))
        i += 1
    for desc in WRAPPED.values():
        out.append(gen_wrapped(desc))
    aliases = sorted({p for p, _ in SEEN} | {d[1] for d in WRAPPED.values()})
    header = [
        "//! Converters from the k8s-pb (prost) messages to the JSON Go's `encoding/json` writes for",
        "//! the same Kubernetes 1.35 API types: one function per Go struct, fields in Go's order,",
        "//! `omitempty`/`omitzero` and pointer-ness as in the Go json tags.",
        "//!",
        "//! Generated by `scripts/gen/protobuf_json.py` from kubernetes/api and",
        "//! kubernetes/apimachinery v0.35.0 and the k8s-pb 0.9 sources; regenerate rather than edit.",
        "",
        "use super::wire::{self, Obj, R};",
    ]
    for a in aliases:
        header.append(f"use {PKGS[a][1]} as {PKGS[a][2]};")
    header.append("")
    table = ["/// The root kinds: `(apiVersion, kind, decode-and-convert)`.",
             "pub(super) const KINDS: &[(&str, &str, wire::Decoder)] = &["]
    for pkg, kind, av in ROOTS:
        table.append(f'    ("{av}", "{kind}", |raw| wire::decode_with::<{PKGS[pkg][2]}::{rname(pkg, kind)}>(raw, {fn_name(pkg, kind)})),')
    table.append("];")
    text = "\n".join(header) + "\n" + "\n".join(table) + "\n\n" + "\n\n".join(out) + "\n"
    open(OUT, "w").write(text)
    print(f"{len(WANTED)} structs, specials used: {sorted(USED_SPECIAL)}", file=sys.stderr)


main()
