#!/usr/bin/env bash
# The Kubernetes manifests (infra/kubernetes/, issue 20): the base and the production overlay are
# rendered with the kustomize inside Debian's kubectl (package kubernetes-client: kubectl 1.20,
# kustomize v2.0.3), and again with a current kubectl's when one is on PATH (kustomize v4/v5),
# which must give the same objects; then every rendered object is validated offline: built-in
# kinds against Kubernetes' own JSON schemas (kubernetes-validate from PyPI, strict: unknown
# fields refused) for the oldest and newest Kubernetes we name, CloudNativePG's Cluster against
# our schema in infra/kubernetes/schemas/, and every pod against the rules the hub keeps
# (non-root, read-only root, no privilege escalation, no capabilities, probes, resources). Also:
# each option the Kubernetes gateway.toml sets is one the repository's gateway.toml documents.
#
# Nothing is installed system-wide: the .deb is unpacked and the Python tools go into a venv, both
# under ${XDG_CACHE_HOME:-~/.cache}/ggzhub-ci/ (Debian's kubernetes-client would conflict with
# another kubectl package, and a fresh CI machine has none of it).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$SECONDS

# The oldest Kubernetes the manifests are for (preStop's sleep action is on by default from 1.30)
# and the newest kubernetes-validate knows.
K8S_VERSIONS="1.30.0,1.37.0"
TARGETS=(base overlays/production)

cache="${XDG_CACHE_HOME:-$HOME/.cache}/ggzhub-ci"
mkdir -p "$cache"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
sudo=""
if [ "$(id -u)" != "0" ]; then sudo="sudo"; fi

# kubectl 1.20 with kustomize v2.0.3, unpacked from Debian's package.
kubectl_v2="$cache/kubernetes-client/usr/bin/kubectl"
if [ ! -x "$kubectl_v2" ]; then
  echo "fetching Debian's kubernetes-client into $cache"
  # As ourselves: apt's sandbox user could not write into our temporary directory.
  download() { (cd "$work" && apt-get -qq -o APT::Sandbox::User="$(id -un)" download kubernetes-client); }
  if ! download; then
    # No or stale package lists (a fresh machine): update them once and try again.
    $sudo apt-get update -qq
    download
  fi
  rm -rf "$cache/kubernetes-client.partial" "$cache/kubernetes-client"
  dpkg-deb -x "$work"/kubernetes-client_*.deb "$cache/kubernetes-client.partial"
  mv "$cache/kubernetes-client.partial" "$cache/kubernetes-client"
fi
"$kubectl_v2" version --client --short 2>/dev/null || "$kubectl_v2" version --client

# The Python tools, in a venv named after the pinned requirements (a change makes a new one).
requirements=scripts/check-kubernetes-requirements.txt
venv="$cache/kubernetes-venv-$(sha256sum "$requirements" | cut -c1-12)"
if [ ! -e "$venv/.complete" ]; then
  echo "installing $requirements into $venv"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    # Debian's python3 ships venv separately.
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    rm -rf "$venv"
    python3 -m venv "$venv"
  fi
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --only-binary=:all: -r "$requirements"
  touch "$venv/.complete"
fi
python="$venv/bin/python"
"$python" -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed (tomllib)"'

# A current kubectl, when there is one, renders too: both must give the same objects.
kubectl_new=""
if command -v kubectl >/dev/null 2>&1; then
  kustomize_version="$(kubectl version --client -o json 2>/dev/null | "$python" -c 'import json, sys; print(json.load(sys.stdin).get("kustomizeVersion", ""))' 2>/dev/null || true)"
  case "$kustomize_version" in
    v4.* | v5.*) kubectl_new="$(command -v kubectl)"; echo "also rendering with $kubectl_new (kustomize $kustomize_version)" ;;
    *) echo "no kubectl with kustomize v4 or v5 on PATH: rendering with kustomize v2.0.3 only" ;;
  esac
fi

renders=()
for target in "${TARGETS[@]}"; do
  dir="infra/kubernetes/$target"
  out="$work/${target//\//-}"
  echo "-- $dir"
  "$kubectl_v2" kustomize "$dir" > "$out.yaml"
  renders+=("$out.yaml")
  if [ -n "$kubectl_new" ]; then
    # v5 warns that bases and patchesStrategicMerge are deprecated: the price of v2.0.3.
    "$kubectl_new" kustomize "$dir" > "$out.new.yaml" 2> "$out.new.err" || { cat "$out.new.err" >&2; exit 1; }
    grep -Ev "Warning: '(bases|patchesStrategicMerge)' is deprecated" "$out.new.err" >&2 || true
    "$python" scripts/check-kubernetes.py compare "$out.yaml" "$out.new.yaml"
  fi
done

"$python" scripts/check-kubernetes.py validate "$K8S_VERSIONS" "${renders[@]}"
"$python" scripts/check-kubernetes.py gateway-toml infra/kubernetes/base/gateway.toml gateway.toml
echo "kubernetes manifests OK ($((SECONDS - start)) s)"
