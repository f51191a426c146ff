#!/bin/sh
# The Debian packages the live and end-to-end tests run for real, installed when missing: as root on Debian
# or Ubuntu with apt-get; anywhere else this stops with a message naming the packages to install.
#   nginx                        in front of the real server, configured as the Ingress is (tests/live)
#   docker.io                    the Docker engine the dev container runs in (e2e/docker_engine.py)
#   containerd runc              the real node's container runtime (e2e/node.py)
#   containernetworking-plugins  the real node's pod network (bridge, host-local, loopback, portmap)
#   iptables                     kube-proxy's Services on the real node
#   debootstrap                  the base of the locally built Hayhooks image (e2e/image.py)
#   gcc libc6-dev                the node's pause program, built static (e2e/pause.c)
# Their services are never started by the packages: the tests start their own, privately, and stop them.
set -eu

packages="nginx docker.io containerd runc containernetworking-plugins iptables debootstrap gcc libc6-dev"
missing=""
for package in $packages; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing="$missing $package"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ] && [ -r /etc/debian_version ] && command -v apt-get >/dev/null 2>&1; then
    echo "tests: installing$missing (apt-get install -y)" >&2
    # Keep the packages from starting system services (nginx on port 80, dockerd, containerd).
    policy=/usr/sbin/policy-rc.d
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' > "$policy"
        chmod 755 "$policy"
        trap 'rm -f "$policy"' EXIT
    fi
    apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing
    exit 0
fi

echo "the live and end-to-end tests need these Debian/Ubuntu packages, which are not installed:$missing" \
    "(as root: apt-get install -y$missing; they run real servers, containers and a kubelet, so they need root)" >&2
exit 1
