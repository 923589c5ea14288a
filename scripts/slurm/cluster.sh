#!/usr/bin/env bash
# A one-node Slurm cluster on loopback, for the Slurm launcher's tests and
# for trying `irflow run --executor slurm` on one machine.
#
#   cluster.sh install   Debian's slurmctld, slurmd, slurm-client and munge
#                        via apt when missing (idempotent; IRFLOW_SKIP_SLURM=1
#                        skips it)
#   cluster.sh up        install, write the config under .cache/slurm (absolute
#                        paths), start munged, slurmctld and slurmd, and wait
#                        until sinfo shows the node idle; does nothing when the
#                        cluster is already up
#   cluster.sh down      stop the daemons this script started
#   cluster.sh status    say whether the cluster answers
#   cluster.sh env       print `export SLURM_CONF=…` for a shell
#
# Slurm 22.05 (Debian 12) runs here with proctrack/linuxproc, task/none,
# select/cons_tres and one node holding every CPU. There is no slurmdbd, so
# job records are the job-completion log (jobcomp/filetxt) in
# .cache/slurm/log/jobcomp.log and `scontrol show job` while Slurm remembers
# the job (MinJobAge).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${IRFLOW_SLURM_DIR:-$root/.cache/slurm}
conf=$dir/slurm.conf
# The daemons run as root (SlurmUser=root keeps the config to one user).
as_root=""
if [ "$(id -u)" != 0 ]; then
  as_root="sudo -n"
fi

install() {
  if command -v slurmctld >/dev/null 2>&1 && command -v slurmd >/dev/null 2>&1 &&
    command -v sbatch >/dev/null 2>&1 && command -v munged >/dev/null 2>&1; then
    return 0
  fi
  if [ "${IRFLOW_SKIP_SLURM:-}" = 1 ]; then
    echo "slurm: not installed and IRFLOW_SKIP_SLURM=1: skipping" >&2
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "slurm: no apt-get here; install slurmctld, slurmd, slurm-client and munge (Slurm 22.05+) by hand" >&2
    return 1
  fi
  sudo=""
  if [ "$(id -u)" != 0 ]; then
    sudo="sudo -n"
  fi
  echo "slurm: installing slurmctld, slurmd, slurm-client and munge from Debian …" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # policy-rc.d keeps the packages' init scripts from starting daemons
  # with the system-wide configuration; this script starts its own.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  $sudo apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
  command -v slurmctld slurmd sbatch munged >/dev/null
}

write_config() {
  mkdir -p "$dir"/{state,spool,log,run,munge}
  local host cpus
  host=$(hostname -s)
  cpus=$(nproc)
  cat >"$conf.tmp" <<CONF
# Written by scripts/slurm/cluster.sh: a one-node loopback cluster.
ClusterName=irflow
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/munge.socket
CryptoType=crypto/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
SlurmctldPort=${IRFLOW_SLURMCTLD_PORT:-16817}
SlurmdPort=${IRFLOW_SLURMD_PORT:-16818}
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.log
AccountingStorageType=accounting_storage/none
MinJobAge=300
KillWait=5
InactiveLimit=0
SchedulerParameters=sched_interval=1,bf_interval=1
MessageTimeout=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2)) State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  mv "$conf.tmp" "$conf"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

status() {
  [ -f "$conf" ] && SLURM_CONF=$conf timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -q .
}

up() {
  install
  if ! command -v slurmctld >/dev/null 2>&1; then
    echo "slurm: binaries absent; cluster not started" >&2
    return 1
  fi
  if alive "$dir/run/slurmctld.pid" && alive "$dir/run/slurmd.pid" && status; then
    return 0
  fi
  write_config
  # munged: Debian's key is /etc/munge/munge.key; the socket is private to
  # this cluster so a system munged, if any, is left alone.
  local sock=$dir/munge/munge.socket
  if ! alive "$dir/run/munged.pid"; then
    if [ ! -f /etc/munge/munge.key ]; then
      mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
      chown munge:munge /etc/munge/munge.key 2>/dev/null || true
      chmod 400 /etc/munge/munge.key
    fi
    chmod 755 "$dir/munge"
    # As root, -f: munged would refuse the socket directory's ownership
    # otherwise (it lives in the repo's .cache, owned by whoever cloned).
    $as_root munged -f --socket="$sock" --pid-file="$dir/munge/munged.pid" --log-file="$dir/munge/munged.log" \
      --seed-file="$dir/munge/munged.seed" 2>>"$dir/log/munged.err"
    for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
    cp "$dir/munge/munged.pid" "$dir/run/munged.pid" 2>/dev/null || true
  fi
  alive "$dir/run/slurmctld.pid" || $as_root slurmctld -f "$conf" -i
  # Jobs inherit slurmd's niceness (PropagatePrioProcess=0): on a shared
  # development machine they stay as nice as the commands that submit
  # them. IRFLOW_SLURM_NICE=0 for a machine of its own.
  alive "$dir/run/slurmd.pid" || $as_root nice -n "${IRFLOW_SLURM_NICE:-19}" slurmd -f "$conf"
  for _ in $(seq 120); do
    if SLURM_CONF=$conf timeout 5 sinfo -h -o '%T' 2>/dev/null | grep -qx idle; then
      echo "slurm: up (SLURM_CONF=$conf)" >&2
      return 0
    fi
    sleep 0.5
  done
  echo "slurm: the node did not become idle; see $dir/log" >&2
  SLURM_CONF=$conf sinfo >&2 || true
  return 1
}

stop_pid() {
  local f=$1
  if alive "$f"; then
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

down() {
  # The cluster is private: cancel whatever it still runs, so no job
  # step outlives its slurmd.
  if status; then
    SLURM_CONF=$conf squeue -h -o %i 2>/dev/null | xargs -r env SLURM_CONF="$conf" scancel 2>/dev/null || true
    for _ in $(seq 50); do
      [ -z "$(SLURM_CONF=$conf squeue -h -t R,CG -o %i 2>/dev/null)" ] && break
      sleep 0.2
    done
  fi
  stop_pid "$dir/run/slurmd.pid"
  stop_pid "$dir/run/slurmctld.pid"
  stop_pid "$dir/run/munged.pid"
  rm -f "$dir/munge/munged.pid"
}

case ${1:-} in
install) install ;;
up) up ;;
down) down ;;
status) if status; then echo "slurm: up (SLURM_CONF=$conf)"; else echo "slurm: down"; exit 1; fi ;;
env) echo "export SLURM_CONF=$conf" ;;
*) echo "usage: $0 install|up|down|status|env" >&2; exit 2 ;;
esac
