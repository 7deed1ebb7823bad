#!/usr/bin/env bash
# Trains the bundled model gesso-shapes from scratch on one GPU in under 6 minutes: the VAE, then the UNet + text
# encoder, both on 20000 shapes scenes rendered in memory (no image IO needed), and writes the fp16 single file.
#
#   scripts/gpu/train-shapes.sh PATH/TO/gesso-cli OUTPUT_DIR
#
# OUTPUT_DIR gets: gesso-shapes.safetensors (fp16 single file), gesso-shapes.yaml (the shipped YAML with the new
# scale_factor), vocab.json + merges.txt (copied), vae.safetensors (fp32 VAE), train.log. Copy the first four over
# resources/models/gesso-shapes/ to ship them. Each phase stops itself at its --max-seconds and still writes its
# file (the cosine schedule follows time as well as steps); `timeout -s INT` is the backstop (Ctrl-C also saves).
# Knobs (environment): DEVICE (cuda), COUNT (20000), SEED (1), VAE_STEPS (4000), VAE_SECONDS (75),
# UNET_STEPS (12000), UNET_SECONDS (180).
set -euo pipefail

if [ $# -ne 2 ]; then
  echo "usage: $0 PATH/TO/gesso-cli OUTPUT_DIR" >&2
  exit 2
fi
CLI=$(realpath "$1")
OUT=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODEL_DIR=$ROOT/resources/models/gesso-shapes
DEVICE=${DEVICE:-cuda}
COUNT=${COUNT:-20000}
SEED=${SEED:-1}
VAE_STEPS=${VAE_STEPS:-4000}
VAE_SECONDS=${VAE_SECONDS:-75}
UNET_STEPS=${UNET_STEPS:-12000}
UNET_SECONDS=${UNET_SECONDS:-180}

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
LOG=$OUT/train.log
: > "$LOG"
exec > >(tee -a "$LOG") 2>&1

start=$(date +%s)
echo "== gesso-shapes GPU training: $(date -u), device $DEVICE, $COUNT scenes (seed $SEED), $CLI"
command -v nvidia-smi > /dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true

echo "== phase 1: train-vae ($VAE_STEPS steps x 64, at most ${VAE_SECONDS} s of training)"
phase=$(date +%s)
timeout -s INT -k 20 $((VAE_SECONDS + 40)) \
  "$CLI" train-vae --shapes-count "$COUNT" --shapes-seed "$SEED" --device "$DEVICE" \
    --config "$MODEL_DIR/gesso-shapes.yaml" --output "$OUT/vae.safetensors" \
    --steps "$VAE_STEPS" --batch-size 64 --lr 1e-3 --kl-weight 1e-6 --seed "$SEED" \
    --max-seconds "$VAE_SECONDS" --log-every 200 || echo "train-vae exited with $? (see above)"
echo "== phase 1 took $(( $(date +%s) - phase )) s"
[ -s "$OUT/vae.safetensors" ] || { echo "no VAE written"; exit 1; }

# The YAML's scale_factor := 1 / std of the new VAE's latents, as train-vae printed it.
scale=$(grep -o 'scale_factor [0-9.]*' "$LOG" | tail -1 | awk '{print $2}')
[ -n "$scale" ] || { echo "train-vae printed no scale_factor"; exit 1; }
sed -E "s/^( *scale_factor:).*/\1 $scale/" "$MODEL_DIR/gesso-shapes.yaml" > "$OUT/gesso-shapes.yaml"
grep -n "scale_factor" "$OUT/gesso-shapes.yaml"
cp "$MODEL_DIR/vocab.json" "$MODEL_DIR/merges.txt" "$OUT/"

echo "== phase 2: train-shapes ($UNET_STEPS steps x 128, at most ${UNET_SECONDS} s of training)"
phase=$(date +%s)
timeout -s INT -k 20 $((UNET_SECONDS + 55)) \
  "$CLI" train-shapes --shapes-count "$COUNT" --shapes-seed "$SEED" --device "$DEVICE" \
    --config "$OUT/gesso-shapes.yaml" --vae "$OUT/vae.safetensors" --tokenizer "$MODEL_DIR" \
    --output "$OUT/gesso-shapes.safetensors" --steps "$UNET_STEPS" --batch-size 128 --lr 1e-3 \
    --caption-dropout 0.1 --ema 0.999 --seed "$SEED" --max-seconds "$UNET_SECONDS" --log-every 200 \
  || echo "train-shapes exited with $? (see above)"
echo "== phase 2 took $(( $(date +%s) - phase )) s"
[ -s "$OUT/gesso-shapes.safetensors" ] || { echo "no checkpoint written"; exit 1; }

ls -l "$OUT"
echo "== total $(( $(date +%s) - start )) s; ship: cp $OUT/{gesso-shapes.safetensors,gesso-shapes.yaml,vocab.json,merges.txt} resources/models/gesso-shapes/"
