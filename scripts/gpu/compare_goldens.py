"""Runs `gesso-cli debug forward` on CUDA (fp32, then fp16/bf16) for every golden component and prints the max
difference from the reference tensors. Usage: compare_goldens.py GESSO_CLI GOLDEN_DIR (a copy of ../shared/golden)."""
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file, save_file

CLI, GOLDEN = sys.argv[1], sys.argv[2]

UNET_IN = {"x": "x", "timesteps": "timesteps", "context": "context"}
CASES = [
    # component, model, config, io file, inputs (cli name -> io name), outputs (cli name -> io name)
    ("unet", "unet_tiny.safetensors", "unet_tiny.yaml", "unet_tiny_io.safetensors", UNET_IN, {"out": "out"}),
    ("unet", "unet_tiny_linear.safetensors", "unet_tiny_linear.yaml", "unet_tiny_linear_io.safetensors", UNET_IN, {"out": "out"}),
    ("unet", "unet_tiny_xl.safetensors", "unet_tiny_xl.yaml", "unet_tiny_xl_io.safetensors", {**UNET_IN, "y": "y"}, {"out": "out"}),
    ("vae-encode", "vae_tiny.safetensors", "vae_tiny.yaml", "vae_tiny_io.safetensors", {"x": "x"}, {"mean": "mean", "logvar": "logvar"}),
    ("vae-decode", "vae_tiny.safetensors", "vae_tiny.yaml", "vae_tiny_io.safetensors", {"z": "z"}, {"out": "decoded"}),
    ("text-encoder", "text_clip_tiny.safetensors", "text_clip_tiny.config.json", "text_clip_tiny_io.safetensors",
     {"input_ids": "input_ids"}, {"last_hidden_state": "last_hidden_state", "pooler_output": "pooler_output"}),
    ("text-encoder", "text_openclip_tiny.safetensors", "text_openclip_tiny.open_clip.json", "text_openclip_tiny_io.safetensors",
     {"input_ids": "input_ids"}, {"last_hidden_state": "last", "pooled": "pooled"}),
]
TOLERANCE = {"fp32": 1e-4, "fp16": 5e-2, "bf16": 2e-1}

failures = 0
with tempfile.TemporaryDirectory() as tmp:
    for component, model, config, io_name, inputs, outputs in CASES:
        io = load_file(os.path.join(GOLDEN, io_name))
        for case in ("case0/", "case1/"):
            if case + next(iter(inputs.values())) not in io:
                continue
            in_path = os.path.join(tmp, "in.safetensors")
            save_file({k: io[case + v].contiguous() for k, v in inputs.items()}, in_path)
            # Half precisions on the first case only: each run pays for a CUDA context.
            for precision in ("fp32", "fp16", "bf16") if case == "case0/" else ("fp32",):
                out_path = os.path.join(tmp, "out.safetensors")
                run = subprocess.run([CLI, "-q", "debug", "forward", "--component", component,
                                      "--model", os.path.join(GOLDEN, model), "--config", os.path.join(GOLDEN, config),
                                      "--inputs", in_path, "--output", out_path, "--device", "cuda",
                                      "--precision", precision], capture_output=True, text=True)
                label = f"{component:12s} {model:32s} {case} {precision}"
                if run.returncode != 0:
                    print(f"FAIL {label}: exit {run.returncode}: {run.stderr.strip()[:300]}")
                    failures += 1
                    continue
                got = load_file(out_path)
                for cli_name, io_key in outputs.items():
                    expected = io[case + io_key].double()
                    diff = (got[cli_name].double() - expected).abs().max().item()
                    scale = expected.abs().max().item()
                    ok = diff <= TOLERANCE[precision] * max(1.0, scale)
                    failures += 0 if ok else 1
                    print(f"{'ok  ' if ok else 'FAIL'} {label} {cli_name:18s} max diff {diff:.3e} (max |ref| {scale:.2f})")
print("failures:", failures)
sys.exit(1 if failures else 0)
