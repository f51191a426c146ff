#!/usr/bin/env bash
# Builds the real programs the end-to-end tests run (the Pulumi CLI and providers, a Kubernetes
# control plane and kwok) from their Go modules with the ordinary `go` client, into a cache
# outside the repository, keyed by the Go version and platform. Only what is missing is built: a piece
# whose version in versions.env differs from the one recorded in manifest.tsv is built again.
#
#   e2e/toolchain.sh probe    ask the Go module proxy for every piece; print what it answered
#   e2e/toolchain.sh build    probe, then build what is served and not yet in the cache
#   e2e/toolchain.sh dir      print the cache folder (bin/ holds the programs, manifest.tsv what each is)
#
# A piece the proxy refuses is reported with the module@version it refused; it is never replaced
# by a stand-in. manifest.tsv records, per piece: status (built | user | refused), version, detail.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
command -v go >/dev/null || { echo "toolchain: the go command is missing (Go 1.26 or later builds these tools)" >&2; exit 2; }
export GOFLAGS=-mod=mod GOTOOLCHAIN=${GOTOOLCHAIN:-local}
key=$(go env GOVERSION GOOS GOARCH | sha256sum | cut -c1-16)
root=${HAYHOOKS_TOOLCHAIN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hayhooks-pulumi/toolchain/$key}
bin=$root/bin
src=$root/src
manifest=$root/manifest.tsv
mkdir -p "$bin" "$src"
# One build at a time per cache (two `make test` runs on one machine share it).
exec 9>"$root/.lock"
flock 9

log() { printf 'toolchain: %s\n' "$*" >&2; }
# record PIECE STATUS VERSION DETAIL: one row per piece, newest wins.
record() {
  local tmp; tmp=$(mktemp "$manifest.XXXXXX")
  touch "$manifest"
  grep -v "^$1	" "$manifest" >"$tmp" || true
  printf '%s\t%s\t%s\t%s\n' "$@" >>"$tmp"
  sort -o "$manifest" "$tmp" && rm -f "$tmp"
}
# served MODULE@VERSION: prints the version the proxy resolves it to, or fails with its answer on stderr.
served() {
  local out
  if out=$(go list -m -json "$1" 2>&1) && ! grep -q '"Error"' <<<"$out"; then
    sed -n 's/^\t"Version": "\(.*\)",$/\1/p' <<<"$out" | head -n1
  else
    grep -oE '(403 Forbidden|404 Not Found|not available|invalid version)[^"]*' <<<"$out" | head -n1 >&2 || echo "$out" | tail -n1 >&2
    return 1
  fi
}
moddir() { go mod download -json "$1" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p'; }

# Each probe_X prints one report line and returns 0 when the piece can be built.
probe_one() { # NAME MODULE@VERSION
  local answer
  if answer=$(served "$2" 2>&1); then
    printf '  %-28s asked %-70s served %s\n' "$1" "$2" "$answer" >&2
  else
    printf '  %-28s asked %-70s REFUSED (%s)\n' "$1" "$2" "$answer" >&2
    return 1
  fi
}
probe() {
  local rc=0
  log "asking the Go module proxy ($(go env GOPROXY))"
  probe_one pulumi "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" || rc=1
  probe_one pulumi-language-python "github.com/pulumi/pulumi/sdk/v3@$PULUMI_LANGUAGE_PYTHON_VERSION" || rc=1
  probe_one "  (its own module)" "$PULUMI_LANGUAGE_PYTHON_MODULE@latest" || true
  probe_one pulumi-resource-kubernetes "github.com/pulumi/pulumi-kubernetes/provider/v4@$PULUMI_KUBERNETES_PSEUDO" || rc=1
  probe_one "  (wanted 4.34.2)" "github.com/pulumi/pulumi-kubernetes/provider/v4@v4.34.2" || true
  probe_one pulumi-resource-random "$PULUMI_RANDOM_MODULE@latest" || rc=1
  probe_one pulumi-language-yaml "github.com/pulumi/pulumi-yaml@$PULUMI_YAML_VERSION" || rc=1
  probe_one etcd "go.etcd.io/etcd/server/v3@$ETCD_VERSION" || rc=1
  probe_one kube-apiserver,... "k8s.io/kubernetes@$KUBERNETES_VERSION" || rc=1
  probe_one kwok "sigs.k8s.io/kwok@$KWOK_VERSION" || rc=1
  probe_one registry "github.com/distribution/distribution/v3@$REGISTRY_VERSION" || rc=1
  return $rc
}

# wrapper NAME: a fresh module in $src/NAME to build from; prints its path.
wrapper() {
  local d=$src/$1
  rm -rf "$d" && mkdir -p "$d"
  (cd "$d" && go mod init "hayhooks-toolchain/$1" >/dev/null 2>&1)
  echo "$d"
}
have() { [ -x "$bin/$1" ] && grep -q "^$1	built	$2	" "$manifest" 2>/dev/null; } # PIECE VERSION
timed() { local t0=$SECONDS; "$@"; log "${*: -1} took $((SECONDS - t0)) s"; }

build_etcd() {
  have etcd "$ETCD_VERSION" && return 0
  log "building etcd $ETCD_VERSION"
  local d; d=$(wrapper etcd)
  # server/v3's replaces are local paths (../api ...): its go.mod already requires those modules at
  # the same version, which the wrapper takes as they are published.
  (cd "$d" && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" && go build -trimpath -o "$bin/etcd" go.etcd.io/etcd/server/v3)
  record etcd built "$ETCD_VERSION" "go.etcd.io/etcd/server/v3@$ETCD_VERSION"
}

build_kubernetes() {
  local tools=(kube-apiserver kube-controller-manager kube-scheduler kubectl kubelet kube-proxy) missing=() t
  for t in "${tools[@]}"; do have "$t" "$KUBERNETES_VERSION" || missing+=("$t"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "building ${missing[*]} $KUBERNETES_VERSION"
  local d gomod minor staging=()
  d=$(wrapper kubernetes)
  gomod=$(go mod download -json "k8s.io/kubernetes@$KUBERNETES_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  # k8s.io/kubernetes requires its staging modules at v0.0.0, replaced by ./staging/...: replace each
  # with its published v0.X.Y (the list changes between releases, so it is read from this go.mod).
  mapfile -t staging < <(sed -n 's#^\t\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\1#p' "$gomod")
  minor=${KUBERNETES_VERSION#v1.}
  local edits=(-require "k8s.io/kubernetes@$KUBERNETES_VERSION")
  for t in "${staging[@]}"; do edits+=(-replace "$t=$t@v0.$minor"); done
  while read -r g; do edits+=(-godebug "$g"); done < <(sed -n 's/^godebug \(.*\)/\1/p' "$gomod")
  local major=1 mn=${minor%%.*}
  # Version ldflags matter: pulumi-kubernetes reads the server version, and a "v0.0" cluster makes
  # every ServiceAccount create wait five minutes for a token Secret.
  local ld="" p
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ld+=" -X $p.gitVersion=$KUBERNETES_VERSION -X $p.gitMajor=$major -X $p.gitMinor=$mn -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  (
    cd "$d"
    go mod edit "${edits[@]}"
    for t in "${missing[@]}"; do
      go get "k8s.io/kubernetes/cmd/$t@$KUBERNETES_VERSION"
    done
    for t in "${missing[@]}"; do
      timed go build -trimpath -ldflags "$ld" -o "$bin/$t" "k8s.io/kubernetes/cmd/$t"
    done
  )
  for t in "${missing[@]}"; do record "$t" built "$KUBERNETES_VERSION" "k8s.io/kubernetes@$KUBERNETES_VERSION"; done
}

# The kwok stages the cluster runs with: nodes become Ready and keep a lease, pods become Ready
# without a kubelet, and a deleted pod goes away.
KWOK_STAGES=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)

build_kwok() {
  if ! have kwok "$KWOK_VERSION"; then
    log "building kwok $KWOK_VERSION"
    local d; d=$(wrapper kwok)
    (cd "$d" && go get "sigs.k8s.io/kwok@$KWOK_VERSION" && go build -trimpath \
      -ldflags "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" -o "$bin/kwok" sigs.k8s.io/kwok/cmd/kwok)
    record kwok built "$KWOK_VERSION" "sigs.k8s.io/kwok@$KWOK_VERSION; stages in kwok-stages/"
  fi
  # kwok starts only with stage files; they are in the module zip's kustomize/stage/.
  [ "$(cat "$root/kwok-stages/.version" 2>/dev/null)" = "$KWOK_VERSION" ] && return 0
  local mod stage; mod=$(moddir "sigs.k8s.io/kwok@$KWOK_VERSION")
  rm -rf "$root/kwok-stages" && mkdir -p "$root/kwok-stages"
  for stage in "${KWOK_STAGES[@]}"; do install -m644 "$mod/kustomize/stage/$stage" "$root/kwok-stages/"; done
  echo "$KWOK_VERSION" >"$root/kwok-stages/.version"
}

# The image registry the real-container tests pull the locally built Hayhooks image from, by digest, as a
# cluster pulls from its registry (e2e/registry.py serves it on loopback).
build_registry() {
  have registry "$REGISTRY_VERSION" && return 0
  local m=github.com/distribution/distribution/v3
  log "building registry $REGISTRY_VERSION"
  local d; d=$(wrapper registry)
  (cd "$d" && go get "$m/cmd/registry@$REGISTRY_VERSION" && timed go build -trimpath \
    -ldflags "-X $m/version.version=$REGISTRY_VERSION" -o "$bin/registry" "$m/cmd/registry")
  record registry built "$REGISTRY_VERSION" "$m@$REGISTRY_VERSION"
}

# The non-local replace lines of a go.mod, as `go mod edit` arguments.
replaces_of() {
  sed -n 's#^\(replace \)\{0,1\}[[:space:]]*\([^ ]*\)\( v[^ ]*\)\{0,1\} => \([^ .][^ ]*\) \(v[^ ]*\)$#-replace=\2=\4@\5#p' "$1"
}

# A pulumi the user already has on PATH, at or above the floor, is used instead of building one.
PULUMI_FLOOR=v$(sed -n 's/^pulumi==//p' "$here/../requirements.txt")
user_pulumi() {
  local found version
  found=$(PATH=${PATH//$bin:/} command -v pulumi) || return 1
  [ "$found" = "$bin/pulumi" ] && return 1 # our own, not the user's
  version=$("$found" version 2>/dev/null) || return 1
  [ "$(printf '%s\n%s\n' "$PULUMI_FLOOR" "$version" | sort -V | head -n1)" = "$PULUMI_FLOOR" ] || return 1
  ln -sf "$found" "$bin/pulumi"
  record pulumi user "$version" "$found (on PATH; at or above $PULUMI_FLOOR)"
  log "using the pulumi on PATH: $found $version"
}

build_pulumi() {
  have pulumi "$PULUMI_VERSION" && return 0
  # The user's pulumi, linked before: still there and still at or above the floor?
  if grep -q "^pulumi	user	" "$manifest" 2>/dev/null && [ -x "$bin/pulumi" ] && user_pulumi; then return 0; fi
  rm -f "$bin/pulumi"
  user_pulumi && return 0
  log "building pulumi $PULUMI_VERSION"
  local d gomod; d=$(wrapper pulumi)
  gomod=$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  local edits; mapfile -t edits < <(replaces_of "$gomod")
  (
    cd "$d"
    go mod edit -require "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
      -require "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" "${edits[@]}"
    go get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION"
    timed go build -trimpath -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
      -o "$bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  )
  record pulumi built "$PULUMI_VERSION" "github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION (${edits[*]:-no replaces})"
}

build_kubernetes_provider() {
  have pulumi-resource-kubernetes "$PULUMI_KUBERNETES_VERSION" && return 0
  local m=github.com/pulumi/pulumi-kubernetes/provider/v4
  log "building pulumi-resource-kubernetes $PULUMI_KUBERNETES_VERSION ($m@$PULUMI_KUBERNETES_PSEUDO)"
  local d mod; d=$(wrapper pulumi-resource-kubernetes)
  mod=$(moddir "$m@$PULUMI_KUBERNETES_PSEUDO")
  # main.go embeds schema-embed.json and terraform-mapping-embed.json, which are gitignored and so
  # missing from the module zip: build from a writable copy with them written as generate.go would.
  cp -r "$mod" "$d/provider" && chmod -R u+w "$d/provider"
  local edits; mapfile -t edits < <(replaces_of "$mod/go.mod")
  (
    cd "$d/provider/cmd/pulumi-resource-kubernetes"
    VERSION=$PULUMI_KUBERNETES_VERSION python3 - <<'PY'
import json, os
schema = json.load(open("schema.json"))
schema["version"] = os.environ["VERSION"]
json.dump(schema, open("schema-embed.json", "w"), separators=(",", ":"))
json.dump(json.load(open("terraform-mapping.json")), open("terraform-mapping-embed.json", "w"), separators=(",", ":"))
PY
    cd "$d"
    go mod edit -require "$m@$PULUMI_KUBERNETES_PSEUDO" -replace "$m=./provider" "${edits[@]}"
    go get "$m/cmd/pulumi-resource-kubernetes"
    timed go build -trimpath -ldflags "-X $m/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
      -o "$bin/pulumi-resource-kubernetes" "$m/cmd/pulumi-resource-kubernetes"
  )
  record pulumi-resource-kubernetes built "$PULUMI_KUBERNETES_VERSION" \
    "$m@$PULUMI_KUBERNETES_PSEUDO (the pinned SDK is 4.34.2; its commit is not served)"
}

# The Python language host, which `pulumi preview|up` of a Python program needs (the Automation API's inline
# programs do without it). From v3.80.0 on it is a module of its own that the proxy refuses; v3.79.0 is the
# last sdk/v3 release that holds it. It runs `pulumi-language-python-exec`, a script that must sit beside
# it, taken from the sdk/v3 release of the CLI (module-cache files have no mode bits: install -m755).
build_language_python() {
  local exec_script
  exec_script=$(moddir "github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION")/python/cmd/pulumi-language-python-exec
  install -m755 "$exec_script" "$bin/pulumi-language-python-exec"
  have pulumi-language-python "$PULUMI_LANGUAGE_PYTHON_VERSION" && return 0
  local m=github.com/pulumi/pulumi/sdk/v3
  log "building pulumi-language-python $PULUMI_LANGUAGE_PYTHON_VERSION ($m/python/cmd/pulumi-language-python)"
  local d gomod edits; d=$(wrapper pulumi-language-python)
  gomod=$(go mod download -json "$m@$PULUMI_LANGUAGE_PYTHON_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  mapfile -t edits < <(replaces_of "$gomod")
  (
    cd "$d"
    go mod edit -require "$m@$PULUMI_LANGUAGE_PYTHON_VERSION" "${edits[@]}"
    go get "$m/python/cmd/pulumi-language-python@$PULUMI_LANGUAGE_PYTHON_VERSION"
    timed go build -trimpath -ldflags "-X $m/go/common/version.Version=$PULUMI_LANGUAGE_PYTHON_VERSION" \
      -o "$bin/pulumi-language-python" "$m/python/cmd/pulumi-language-python"
  )
  record pulumi-language-python built "$PULUMI_LANGUAGE_PYTHON_VERSION" \
    "$m@$PULUMI_LANGUAGE_PYTHON_VERSION python/cmd/pulumi-language-python (${edits[*]:-no replaces}); exec script of $m@$PULUMI_VERSION"
}

build_language_yaml() {
  have pulumi-language-yaml "$PULUMI_YAML_VERSION" && return 0
  local m=github.com/pulumi/pulumi-yaml
  log "building pulumi-language-yaml $PULUMI_YAML_VERSION"
  local d gomod pkg; d=$(wrapper pulumi-language-yaml)
  gomod=$(go mod download -json "$m@$PULUMI_YAML_VERSION" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  # The pulumi pkg/v3 it requires carries a non-local replace (clipboard) that a wrapper must repeat.
  pkg=$(sed -n 's#^\tgithub.com/pulumi/pulumi/pkg/v3 \(v[^ ]*\)$#\1#p' "$gomod")
  local edits; mapfile -t edits < <(replaces_of "$(go mod download -json "github.com/pulumi/pulumi/pkg/v3@$pkg" |
    sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')")
  (
    cd "$d"
    go mod edit -require "$m@$PULUMI_YAML_VERSION" "${edits[@]}"
    go get "$m/cmd/pulumi-language-yaml@$PULUMI_YAML_VERSION"
    timed go build -trimpath -ldflags "-X $m/pkg/version.Version=$PULUMI_YAML_VERSION" \
      -o "$bin/pulumi-language-yaml" "$m/cmd/pulumi-language-yaml"
  )
  record pulumi-language-yaml built "$PULUMI_YAML_VERSION" "$m@$PULUMI_YAML_VERSION (pkg/v3 $pkg)"
}

refuse() { # PIECE MODULE@VERSION WHAT-IT-BLOCKS
  local answer
  if answer=$(served "$2" 2>&1); then return 1; fi
  record "$1" refused "-" "$2 refused by the Go module proxy ($answer); blocks: $3"
  log "$1: $2 refused ($answer)"
}

build() {
  probe || true
  timed build_etcd
  timed build_kwok
  timed build_kubernetes
  timed build_pulumi
  timed build_kubernetes_provider
  timed build_language_yaml
  timed build_language_python
  timed build_registry
  refuse pulumi-resource-random "$PULUMI_RANDOM_MODULE@$PULUMI_RANDOM_VERSION" \
    "RandomPassword (basic auth and API keys) under the real engine" || log "pulumi-resource-random is served now: add its build"
  log "cache: $root ($(du -sh "$root" | cut -f1))"
}

case ${1:-build} in
  probe) probe ;;
  build) build ;;
  dir) echo "$root" ;;
  *) echo "usage: $0 probe|build|dir" >&2; exit 2 ;;
esac
