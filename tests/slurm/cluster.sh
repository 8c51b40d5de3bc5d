#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the tests of the Slurm executor (not a mock).
#   tests/slurm/cluster.sh start   — munge + slurmctld + slurmd with a generated slurm.conf; waits for `sinfo` idle
#   tests/slurm/cluster.sh stop    — stops the daemons this script started (by their pid files)
# Needs root and Debian's packages: apt-get install -y slurmctld slurmd slurm-client munge (.ci/run does it).
# Exit status 3 (and a message) when Slurm cannot be started here; the tests then skip, saying so.
set -euo pipefail
STATE=${SLURM_TEST_STATE:-/tmp/icl-slurm}
cmd=${1:-start}

stop() {  # SIGTERM each daemon we started, then wait for it to exit (slurmctld saves its state first)
  for f in "$STATE"/slurmd.pid "$STATE"/slurmctld.pid "$STATE"/munged.pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); rm -f "$f"
    kill "$pid" 2>/dev/null || continue
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  done
}

if [ "$cmd" = stop ]; then stop; exit 0; fi
for b in munged slurmctld slurmd sinfo sbatch; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "slurm: $b not installed (apt-get install -y slurmctld slurmd slurm-client munge)"; exit 3; }
done
[ "$(id -u)" = 0 ] || { echo "slurm: the test cluster needs root"; exit 3; }
if sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "slurm: already up"; exit 0; fi
stop
mkdir -p "$STATE"/{spool,state,log} /run/munge /var/log/munge /etc/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /etc/munge /var/lib/munge
if [ ! -s /etc/munge/munge.key ]; then
  (mungekey -c -k /etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null)
fi
chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
runuser -u munge -- /usr/sbin/munged --force --pid-file=/run/munge/munged.pid
cp /run/munge/munged.pid "$STATE"/munged.pid
host=$(hostname -s)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
mkdir -p /etc/slurm
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=icltest
SlurmctldHost=$host
SlurmUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
MpiDefault=none
KillWait=2
NodeName=$host CPUs=$(nproc) RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
/usr/sbin/slurmctld
/usr/sbin/slurmd
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -q idle; then echo "slurm: up ($host, partition debug)"; exit 0; fi
  sleep 0.5
done
echo "slurm: the node did not become idle; see $STATE/log"; stop; exit 3
