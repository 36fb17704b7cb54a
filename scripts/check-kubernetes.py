"""Checks of the rendered Kubernetes manifests, run by scripts/check-kubernetes.sh in its venv.

  compare A B              the two renders hold the same objects (kustomize v2 and v5 hash
                           generated names differently and order objects differently)
  validate K8S_VERSIONS F  every object of F valid: built-in kinds against Kubernetes' schemas
                           (kubernetes-validate, strict: unknown fields refused) for each version
                           in K8S_VERSIONS (comma-separated), other kinds against our own schemas
                           in infra/kubernetes/schemas/; plus the rules every pod of ours keeps
  gateway-toml FILE DOCS   every option FILE sets is one DOCS (the repository's gateway.toml,
                           which documents every option) knows

Any failure is printed and exits non-zero.
"""

import difflib
import json
import pathlib
import re
import sys
import tomllib

import jsonschema
import kubernetes_validate
import yaml

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "infra" / "kubernetes" / "schemas"
# kustomize's suffix for generated ConfigMaps and Secrets: a dash and ten hex digits of a hash,
# with 0, 1, 3, a and e replaced by g, h, k, m and t (so that no word comes out).
HASH_SUFFIX = re.compile(r"^(.+)-[2456789bcdfghkmt]{10}$")
POD_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "Job"}


def load(path):
    with open(path) as f:
        docs = [d for d in yaml.safe_load_all(f) if d is not None]
    if not docs:
        sys.exit(f"{path}: no objects rendered")
    return docs


def ident(obj):
    meta = obj.get("metadata", {})
    return f"{obj.get('apiVersion')}/{obj.get('kind')} {meta.get('namespace', '-')}/{meta.get('name')}"


def normalised(path):
    """The render's objects, sorted, with generated names' hash suffixes cut off everywhere."""
    text = open(path).read()
    generated = set()
    for obj in load(path):
        name = obj.get("metadata", {}).get("name", "")
        match = HASH_SUFFIX.match(name)
        if obj.get("kind") in ("ConfigMap", "Secret") and match:
            generated.add((name, match.group(1)))
    for name, base in generated:
        text = re.sub(rf"\b{re.escape(name)}\b", f"{base}-HASH", text)
    docs = [d for d in yaml.safe_load_all(text) if d is not None]
    return sorted(docs, key=ident)


def compare(a, b):
    left, right = normalised(a), normalised(b)
    if left == right:
        print(f"same {len(left)} objects")
        return 0
    dump = lambda docs: yaml.safe_dump_all(docs, sort_keys=True).splitlines()  # noqa: E731
    sys.stdout.writelines(line + "\n" for line in difflib.unified_diff(dump(left), dump(right), a, b, lineterm=""))
    print(f"FAIL: {a} and {b} differ", file=sys.stderr)
    return 1


def own_schemas():
    """Our schemas by (apiVersion, kind), read from the `const` each one gives them."""
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)
        props = schema["properties"]
        schemas[(props["apiVersion"]["const"], props["kind"]["const"])] = schema
    return schemas


def pod_rule_errors(obj):
    """What a pod template of ours breaks of the rules every pod here keeps."""
    spec = obj["spec"]["template"]["spec"]
    errors = []
    if spec.get("automountServiceAccountToken") is not False:
        errors.append("automountServiceAccountToken is not false (no pod here talks to the API)")
    pod_sc = spec.get("securityContext", {})
    if pod_sc.get("runAsNonRoot") is not True:
        errors.append("securityContext.runAsNonRoot is not true")
    if pod_sc.get("seccompProfile", {}).get("type") != "RuntimeDefault":
        errors.append("securityContext.seccompProfile.type is not RuntimeDefault")
    containers = [(c, False) for c in spec.get("containers", [])] + [(c, True) for c in spec.get("initContainers", [])]
    for c, init in containers:
        where = f"container {c.get('name')}"
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False:
            errors.append(f"{where}: allowPrivilegeEscalation is not false")
        if sc.get("readOnlyRootFilesystem") is not True:
            errors.append(f"{where}: readOnlyRootFilesystem is not true")
        if "ALL" not in sc.get("capabilities", {}).get("drop", []):
            errors.append(f"{where}: capabilities.drop lacks ALL")
        resources = c.get("resources", {})
        for kind in ("requests", "limits"):
            for res in ("cpu", "memory"):
                if res not in resources.get(kind, {}):
                    errors.append(f"{where}: no resources.{kind}.{res}")
        if init:
            continue
        for probe in ("livenessProbe", "readinessProbe"):
            if probe not in c:
                errors.append(f"{where}: no {probe}")
        # The hub's own services: probes on their health endpoints.
        args = c.get("args") or [None]
        if args[0] == "serve":
            live = c.get("livenessProbe", {}).get("httpGet", {}).get("path")
            ready = c.get("readinessProbe", {}).get("httpGet", {}).get("path")
            if (live, ready) != ("/health/live", "/health/ready"):
                errors.append(f"{where}: probes are not /health/live and /health/ready ({live}, {ready})")
            if args[1:2] != ["gateway"] and "--skip-migrations" not in args:
                errors.append(f"{where}: not --skip-migrations (a subgraph's init container migrates)")
    return errors


def validate(versions, paths):
    schemas = own_schemas()
    failures = checked = 0
    for path in paths:
        for obj in load(path):
            name = ident(obj)
            key = (obj.get("apiVersion"), obj.get("kind"))
            errors = []
            if key in schemas:
                validator = jsonschema.Draft202012Validator(schemas[key])
                errors += [
                    f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(obj)
                ]
            else:
                for version in versions:
                    try:
                        kubernetes_validate.validate(obj, version, strict=True)
                    except kubernetes_validate.ValidationError as e:
                        at = "/".join(map(str, e.path)) or "(root)"
                        errors.append(f"Kubernetes {version}: {at}: {e.message}")
                    except kubernetes_validate.SchemaNotFoundError as e:
                        errors.append(f"{e.message}; add a schema of ours to {SCHEMAS}")
            if obj.get("kind") in POD_TEMPLATE_KINDS:
                errors += pod_rule_errors(obj)
            checked += 1
            for error in errors:
                print(f"FAIL {path}: {name}: {error}", file=sys.stderr)
            failures += bool(errors)
    print(f"{checked} objects checked against Kubernetes {', '.join(versions)} and {len(schemas)} schema(s) of ours")
    if failures:
        print(f"FAIL: {failures} invalid object(s)", file=sys.stderr)
        return 1
    return 0


def toml_keys(table, prefix=()):
    for key, value in table.items():
        if isinstance(value, dict) and value and prefix + (key,) != ("subgraphs", "urls"):
            yield from toml_keys(value, prefix + (key,))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                yield from toml_keys(item, prefix + (key,))
        elif prefix == ("subgraphs",) and key == "urls":
            yield from ((prefix + (key,), name) for name in value)
        else:
            yield prefix, key


def gateway_toml(path, docs):
    """Each option `path` sets appears in `docs` under its section, set or commented out."""
    with open(path, "rb") as f:
        config = tomllib.load(f)
    lines = open(docs).read().splitlines()
    header = re.compile(r"^#?\s*\[\[?([a-z_.]+)\]\]?\s*$")
    sections = {}  # section -> the lines up to the next header
    current = None
    for line in lines:
        match = header.match(line)
        if match:
            current = match.group(1)
            sections.setdefault(current, [])
        elif current:
            sections[current].append(line)
    missing = []
    for section, key in sorted(set(toml_keys(config))):
        name = ".".join(section)
        option = re.compile(rf"^#?\s*{re.escape(key)}\s*=")
        if not any(option.match(line) for line in sections.get(name, [])):
            missing.append(f"[{name}] {key}")
    for item in missing:
        print(f"FAIL {path}: {item} is not an option {docs} documents", file=sys.stderr)
    if missing:
        return 1
    print(f"{path}: every option is documented in {docs}")
    return 0


def main(argv):
    match argv:
        case ["compare", a, b]:
            return compare(a, b)
        case ["validate", versions, *paths] if paths:
            return validate(versions.split(","), paths)
        case ["gateway-toml", path, docs]:
            return gateway_toml(path, docs)
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
