#!/usr/bin/env bash
# A GPU stage: creates repo data, the train pipeline (resource_limits/resource_requests gpu 1), copies two batches
# in, shows the jobs; then `update pipeline --reprocess` to two GPUs per worker. Without a GPU each job fails at
# once, naming the missing GPU; with one, /pfs/out gets the devices each worker saw. KEEP=1 leaves it running.
source "$(dirname "$0")/../lib.sh"
GPU_DIR="$(cd "$(dirname "$0")" && pwd)"
example_start
# Written for a Docker image; here the commands are the host's (sh, ls, nvidia-smi if installed).
pfs image alias tensorflow/tensorflow:latest-gpu host
pfs create repo data
mkdir "$PFS_MNT/data/master"
pfs create pipeline -f "$GPU_DIR/train.yaml"
cp "$GPU_DIR"/data/*.csv "$PFS_MNT/data/master/"
sync "$PFS_MNT/data/master"
pfs wait commit data@master --timeout 60 >/dev/null
example_wait_jobs 60
pfs list job
pfs update pipeline -f "$GPU_DIR/train-2gpus.yaml" --reprocess
sleep 1
example_wait_jobs 60
pfs list job
pfs logs -p train | tail -n 5
if ls /dev/nvidia[0-9]* >/dev/null 2>&1; then
  pfs list file train@master
fi
