#!/usr/bin/env bash
# Make a Docker engine, a local base image and a wheelhouse available for mendbot's docker
# sandbox tests (and bubblewrap, which the local sandbox's tests also exercise). Safe to run
# again: every step checks first and skips what is already done.
#
#   MENDBOT_TEST_BASE_IMAGE  base image to build (default mendbot-base:bookworm)
#   MENDBOT_TEST_WHEELHOUSE  folder for host-downloaded wheels (default ~/.cache/mendbot/wheelhouse)
#   MENDBOT_DOCKERD_LOG      where a dockerd started here logs (default /tmp/mendbot-dockerd.log)
#
# When no engine can start, it says so and exits 0: the docker tests then skip with that reason.
# When the engine answers but the image or the wheels cannot be made, it exits 1.
set -u -o pipefail

BASE_IMAGE="${MENDBOT_TEST_BASE_IMAGE:-mendbot-base:bookworm}"
WHEELHOUSE="${MENDBOT_TEST_WHEELHOUSE:-${HOME:-/root}/.cache/mendbot/wheelhouse}"
DOCKERD_LOG="${MENDBOT_DOCKERD_LOG:-/tmp/mendbot-dockerd.log}"
SUITE="bookworm"
WHEELS=(pytest pytest-cov coverage)

say() { printf '[docker-setup] %s\n' "$*"; }
give_up() {
    say "NOTICE: $*"
    say "NOTICE: no Docker engine is available; the docker sandbox tests will be SKIPPED."
    exit 0
}
fail() {
    say "ERROR: $*"
    say "ERROR: an engine answers, so the docker sandbox tests will run and FAIL without this."
    exit 1
}
as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"; else return 1; fi
}

# 1. packages -------------------------------------------------------------------------------
missing=()
command -v docker >/dev/null 2>&1 || missing+=(docker.io)
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)  # the local sandbox's alternative
if [ "${#missing[@]}" -gt 0 ]; then
    packages=$(printf '%s\n' "${missing[@]}" | sort -u | tr '\n' ' ')
    say "installing with apt-get: $packages"
    if command -v apt-get >/dev/null 2>&1; then
        # shellcheck disable=SC2086
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
            && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages \
            || say "apt-get could not install $packages"
    else
        say "apt-get is not available here"
    fi
else
    say "docker, dockerd, debootstrap and bwrap are installed"
fi
command -v docker >/dev/null 2>&1 || give_up "the docker client is not installed"

# 2. engine ---------------------------------------------------------------------------------
if docker info >/dev/null 2>&1; then
    say "a Docker engine answers already"
else
    command -v dockerd >/dev/null 2>&1 || give_up "dockerd is not installed and no engine answers"
    say "no engine answers: starting dockerd in the background (log: $DOCKERD_LOG)"
    pid=$(as_root sh -c "setsid nohup dockerd >'$DOCKERD_LOG' 2>&1 </dev/null & echo \$!") \
        || give_up "dockerd could not be started (root or sudo is needed)"
    for _ in $(seq 1 60); do
        docker info >/dev/null 2>&1 && break
        [ -d "/proc/$pid" ] || break  # dockerd exited: waiting longer cannot help
        sleep 1
    done
    if ! docker info >/dev/null 2>&1; then
        say "last lines of $DOCKERD_LOG:"
        tail -n 15 "$DOCKERD_LOG" 2>/dev/null | sed 's/^/    /'
        give_up "dockerd did not answer (it exited, or 60 seconds passed)"
    fi
    say "dockerd answers"
fi

# 3. base image -----------------------------------------------------------------------------
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    say "base image $BASE_IMAGE exists already"
else
    command -v debootstrap >/dev/null 2>&1 || fail "debootstrap is missing: cannot build $BASE_IMAGE"
    rootfs=$(mktemp -d /tmp/mendbot-rootfs.XXXXXX)
    say "building $BASE_IMAGE with debootstrap ($SUITE, minbase + python3) in $rootfs"
    if ! as_root debootstrap --variant=minbase --include=python3,python3-pip,python3-venv \
        "$SUITE" "$rootfs" >/tmp/mendbot-debootstrap.log 2>&1; then
        tail -n 15 /tmp/mendbot-debootstrap.log | sed 's/^/    /'
        as_root rm -rf "$rootfs"
        fail "debootstrap failed (log: /tmp/mendbot-debootstrap.log)"
    fi
    as_root rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
    if ! as_root tar -C "$rootfs" -c . | docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'CMD ["/bin/bash"]' - "$BASE_IMAGE" >/dev/null; then
        as_root rm -rf "$rootfs"
        fail "docker import of $BASE_IMAGE failed"
    fi
    as_root rm -rf "$rootfs"
    say "built $BASE_IMAGE: $(docker run --rm --network none "$BASE_IMAGE" python3 --version 2>&1)"
fi

# 4. wheelhouse -----------------------------------------------------------------------------
mkdir -p "$WHEELHOUSE"
have_all=1
for name in "${WHEELS[@]}"; do
    pattern="$(printf '%s' "$name" | tr '-' '_')-*.whl"
    compgen -G "$WHEELHOUSE/$pattern" >/dev/null || have_all=0
done
if [ "$have_all" = 1 ]; then
    say "wheelhouse $WHEELHOUSE has ${WHEELS[*]} already"
else
    say "downloading wheels for ${WHEELS[*]} (and their dependencies) into $WHEELHOUSE"
    python3 -m pip download --quiet --only-binary=:all: --dest "$WHEELHOUSE" "${WHEELS[@]}" \
        || fail "pip download failed: containers need these wheels"
fi
say "wheelhouse: $(ls "$WHEELHOUSE" | tr '\n' ' ')"
say "ready: engine answers, base image $BASE_IMAGE, wheelhouse $WHEELHOUSE"
