#!/usr/bin/env bash
# A second Docker host on this machine for vtui's remote-host tests, as root:
#   - a second dockerd with its own data root, exec root, pidfile, bridge and unix socket
#     (/run/vtui-engine2/docker.sock), holding the simulator image too;
#   - the same engine on tcp://127.0.0.1:$VTUI_TLS_PORT with --tlsverify, its throwaway CA,
#     server and client certificates in /run/vtui-engine2/tls (tcp:// with TLS files);
#   - an sshd on 127.0.0.1:$VTUI_SSH_PORT (Debian's openssh-server) whose sessions reach
#     that engine (SetEnv DOCKER_HOST), with a throwaway key pair in /run/vtui-ssh.
# Safe to run again: it reuses what runs. Run after scripts/test-engine.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

SIM_IMAGE=vtui-test/vllm-sim
ENGINE2=/run/vtui-engine2
SOCKET2=$ENGINE2/docker.sock
SSH_DIR=/run/vtui-ssh
SSH_PORT=${VTUI_SSH_PORT:-2222}
BRIDGE=vtui-br2
TLS_DIR=$ENGINE2/tls
TLS_PORT=${VTUI_TLS_PORT:-2376}

say() { echo "test-remote: $*"; }

if [ "$(id -u)" != 0 ]; then
    say "must run as root (it starts dockerd and sshd)" >&2
    exit 1
fi

need=()
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v ssh >/dev/null || need+=(openssh-client)
command -v ip >/dev/null || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${need[@]}"
fi

engine2() { DOCKER_HOST=unix://$SOCKET2 docker "$@"; }
engine2_tls() {
    docker --tlsverify --tlscacert "$TLS_DIR/ca.pem" --tlscert "$TLS_DIR/cert.pem" \
        --tlskey "$TLS_DIR/key.pem" -H "tcp://127.0.0.1:$TLS_PORT" "$@"
}

# Certificates as Docker's "protect the daemon socket" guide makes them: a CA, a server
# certificate for 127.0.0.1 and a client certificate (extendedKeyUsage clientAuth).
if [ ! -f "$TLS_DIR/cert.pem" ]; then
    mkdir -p "$TLS_DIR"
    (
        cd "$TLS_DIR"
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=vtui-test-ca \
            -keyout ca-key.pem -out ca.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 \
            -keyout server-key.pem -out server.csr 2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 30 -extfile server.ext -out server-cert.pem 2>/dev/null
        openssl req -newkey rsa:2048 -nodes -subj /CN=vtui-client \
            -keyout key.pem -out client.csr 2>/dev/null
        printf 'extendedKeyUsage=clientAuth\n' >client.ext
        openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial \
            -days 30 -extfile client.ext -out cert.pem 2>/dev/null
        # A second CA that signed nothing here: a client trusting it must refuse the engine.
        openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=other-ca \
            -keyout other-ca-key.pem -out other-ca.pem 2>/dev/null
        chmod 600 ./*key.pem
    )
    say "made TLS certificates in $TLS_DIR"
fi

# An engine2 from before this script listened on TLS is restarted with the listener.
if engine2 info >/dev/null 2>&1 && ! engine2_tls info >/dev/null 2>&1; then
    say "restarting the second dockerd to add its TLS listener"
    pid=$(cat "$ENGINE2/dockerd.pid")
    kill "$pid"
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
fi

if ! engine2 info >/dev/null 2>&1; then
    mkdir -p "$ENGINE2" /var/lib/vtui-engine2
    # Its own bridge and no iptables rules of its own: the first engine keeps docker0 and
    # its chains; published ports still work through docker-proxy.
    if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
        ip link add "$BRIDGE" type bridge
        ip addr add 172.31.250.1/24 dev "$BRIDGE"
    fi
    ip link set "$BRIDGE" up
    say "starting the second dockerd on $SOCKET2"
    # "nvidia", its default runtime, is runc here: it stands for the NVIDIA runtime (which
    # wraps runc), so vtui's helper containers take the path they take on such hosts.
    nohup dockerd \
        --add-runtime nvidia=/usr/sbin/runc --default-runtime nvidia \
        --data-root /var/lib/vtui-engine2 \
        --exec-root "$ENGINE2/exec" \
        --pidfile "$ENGINE2/dockerd.pid" \
        --host "unix://$SOCKET2" \
        --host "tcp://127.0.0.1:$TLS_PORT" \
        --tlsverify --tlscacert "$TLS_DIR/ca.pem" \
        --tlscert "$TLS_DIR/server-cert.pem" --tlskey "$TLS_DIR/server-key.pem" \
        --bridge "$BRIDGE" \
        --iptables=false --ip6tables=false \
        >/var/log/vtui-dockerd2.log 2>&1 &
    for _ in $(seq 1 60); do
        engine2 info >/dev/null 2>&1 && break
        sleep 1
    done
    if ! engine2 info >/dev/null 2>&1; then
        say "the second dockerd did not come up; its log:" >&2
        tail -n 30 /var/log/vtui-dockerd2.log >&2
        exit 1
    fi
fi
say "second engine: $(engine2 version --format '{{.Server.Version}}'), also on TLS: \
$(engine2_tls version --format '{{.Server.Version}}')"

# The simulator as the first engine has it now (test-engine.sh rebuilt it).
want=$(docker image inspect --format '{{.Id}}' "$SIM_IMAGE")
have=$(engine2 image inspect --format '{{.Id}}' "$SIM_IMAGE" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
    docker save "$SIM_IMAGE" | engine2 load >/dev/null
    say "loaded $SIM_IMAGE into the second engine"
fi

mkdir -p "$SSH_DIR"
chmod 700 "$SSH_DIR"
[ -f "$SSH_DIR/host_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/host_key"
[ -f "$SSH_DIR/client_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/client_key"
[ -f "$SSH_DIR/wrong_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$SSH_DIR/wrong_key"
cp "$SSH_DIR/client_key.pub" "$SSH_DIR/authorized_keys"
chmod 600 "$SSH_DIR/authorized_keys"
cat >"$SSH_DIR/sshd_config" <<EOF
Port $SSH_PORT
ListenAddress 127.0.0.1
HostKey $SSH_DIR/host_key
PidFile $SSH_DIR/sshd.pid
AuthorizedKeysFile $SSH_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
SetEnv DOCKER_HOST=unix://$SOCKET2
EOF
# The client side, for tests: `ssh -F $SSH_DIR/ssh_config` trusts this host key only.
echo "[127.0.0.1]:$SSH_PORT $(cat "$SSH_DIR/host_key.pub")" >"$SSH_DIR/known_hosts"
cat >"$SSH_DIR/ssh_config" <<EOF
Host 127.0.0.1
    Port $SSH_PORT
    User root
    IdentityFile $SSH_DIR/client_key
    IdentitiesOnly yes
    UserKnownHostsFile $SSH_DIR/known_hosts
    StrictHostKeyChecking yes
EOF

mkdir -p /run/sshd
if [ -f "$SSH_DIR/sshd.pid" ] && kill -0 "$(cat "$SSH_DIR/sshd.pid")" 2>/dev/null; then
    kill -HUP "$(cat "$SSH_DIR/sshd.pid")"  # the config may have changed
else
    /usr/sbin/sshd -f "$SSH_DIR/sshd_config"
fi
for _ in $(seq 1 20); do
    if ssh -F "$SSH_DIR/ssh_config" -o BatchMode=yes 127.0.0.1 -- docker version \
        --format '{{.Server.Version}}' >/dev/null 2>&1; then
        say "sshd on 127.0.0.1:$SSH_PORT reaches the second engine"
        exit 0
    fi
    sleep 0.5
done
say "ssh to 127.0.0.1:$SSH_PORT does not reach the second engine:" >&2
ssh -F "$SSH_DIR/ssh_config" -o BatchMode=yes 127.0.0.1 -- docker version >&2 || true
exit 1
