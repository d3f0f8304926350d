#!/bin/sh
# Regenerates standard-install.yaml from the Gateway API module the
# project builds with (go.mod pins sigs.k8s.io/gateway-api). The
# ValidatingAdmissionPolicy of the upstream bundle (safe upgrades) is left
# out: it is not a CRD; apply it from the upstream release if you want it.
set -eu
cd "$(dirname "$0")/../.."
ver=$(go list -m -f '{{.Version}}' sigs.k8s.io/gateway-api)
dir=$(go mod download -json "sigs.k8s.io/gateway-api@$ver" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
out=deploy/gateway-api/standard-install.yaml
{
	echo "# Gateway API $ver, standard channel: the CRDs Switchyard's kubernetesGateway provider reads."
	echo "# Copied unchanged from sigs.k8s.io/gateway-api@$ver (config/crd/standard), Apache-2.0."
	echo "# Regenerate: deploy/gateway-api/update.sh"
	for f in "$dir"/config/crd/standard/gateway.networking.k8s.io_*.yaml; do
		case $f in *vap_safeupgrades*) continue ;; esac
		echo "---"
		cat "$f"
	done
} >"$out"
echo "wrote $out ($ver)"
