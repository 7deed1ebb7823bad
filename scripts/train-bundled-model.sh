#!/usr/bin/env bash
# Trains the bundled model gesso-shapes again from nothing, on the CPU, with Gesso's own commands: the synthetic
# dataset, the VAE (train-vae), the UNet and text encoder with the general trainer (train --init random, then a second
# phase from that result), then the VAE's decoder once more (train-vae --init --decoder-only) baked in with convert.
# About 2 hours on a 2-core machine (each phase runs on one thread, so two phases could share the machine).
#   scripts/train-bundled-model.sh [GESSO_CLI] [WORK_DIR]
# Then copy WORK_DIR/model/* to resources/models/gesso-shapes/ and run test_bundled_model for the colour score.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cli=${1:-$root/build/app/gesso-cli}
work=${2:-/tmp/gesso-shapes-train}
shipped=$root/resources/models/gesso-shapes   # its YAML (architecture) and its vocabulary are reused
mkdir -p "$work"
cd "$work"

[[ -d data ]] || "$cli" make-dataset shapes --count 20000 --size 64 --seed 1 --output data

# The VAE for a fixed time (the cosine schedule follows the time budget); prints 1 / latent std.
"$cli" --threads 1 train-vae --data data --config "$shipped/gesso-shapes.yaml" --output vae.safetensors \
  --steps 4000 --batch-size 16 --lr 1e-3 --kl-weight 1e-6 --seed 1 --log-every 50 --max-seconds 600 2>&1 | tee vae.log
scale=$(sed -n 's/.*-> scale_factor \([0-9.]*\);.*/\1/p' vae.log | tail -n 1)
[[ -n $scale ]] || { echo "train-vae printed no scale_factor (see $work/vae.log)" >&2; exit 1; }
sed "s/^\(    scale_factor:\).*/\1 $scale/" "$shipped/gesso-shapes.yaml" > gesso-shapes.yaml

# UNet + text encoder from random weights on the VAE's cached latents.
"$cli" --threads 1 train --init random --config gesso-shapes.yaml --vae vae.safetensors --tokenizer "$shipped" \
  --data data --output run --method full --train-text-encoder --resolution 64 --batch-size 32 --steps 5000 \
  --lr 1e-3 --lr-scheduler cosine --warmup 200 --caption-dropout 0.1 --ema 0.999 --min-snr 5 --noise-offset 0.05 \
  --save-every 1000 --keep 2 --save-precision fp16 --seed 1 --cache-dir cache 2>&1 | tee train.log

# A second phase from that result (model.yaml beside it carries the config).
"$cli" --threads 1 train --model run/model.safetensors --tokenizer "$shipped" --data data --output run2 --method full \
  --train-text-encoder --resolution 64 --batch-size 32 --steps 2400 --lr 4e-4 --lr-scheduler cosine --warmup 100 \
  --caption-dropout 0.1 --ema 0.999 --min-snr 5 --noise-offset 0.05 --save-every 800 --keep 2 --save-precision fp16 \
  --seed 2 --cache-dir cache 2>&1 | tee train2.log

# The decoder alone: small shapes lost their colour in the VAE round trip; the encoder (the UNet's latents) is kept.
"$cli" --threads 1 train-vae --data data --config gesso-shapes.yaml --init run2/model.safetensors --decoder-only \
  --output vae-decoder.safetensors --steps 4000 --batch-size 16 --lr 3e-4 --seed 4 --log-every 100 2>&1 | tee vae2.log

mkdir -p model
rm -f model/gesso-shapes.safetensors
"$cli" convert run2/model.safetensors model/gesso-shapes.safetensors --vae vae-decoder.safetensors --dtype fp16
cp gesso-shapes.yaml model/gesso-shapes.yaml
cp "$shipped/vocab.json" "$shipped/merges.txt" model/
echo "model in $work/model"
