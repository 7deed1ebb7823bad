// An 8-bit image in memory (rows of interleaved RGB or RGBA) and its conversion to and from the [-1, 1] tensors the
// VAE reads and writes. Reading and writing files is in image_io.h.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace gesso::image {

struct Image {
  int64_t width = 0;
  int64_t height = 0;
  int channels = 3;           // 3 (RGB) or 4 (RGBA, straight alpha)
  std::vector<uint8_t> data;  // row-major, height × width × channels

  size_t byteSize() const { return static_cast<size_t>(width) * static_cast<size_t>(height) * static_cast<size_t>(channels); }
  uint8_t* pixel(int64_t x, int64_t y) { return data.data() + (y * width + x) * channels; }
  const uint8_t* pixel(int64_t x, int64_t y) const { return data.data() + (y * width + x) * channels; }
};

// An image of the given size filled with zeros. Throws GessoError(InvalidArgument) on a bad size or channel count.
Image makeImage(int64_t width, int64_t height, int channels);

// Throws GessoError(InvalidArgument) unless the sizes and the buffer agree.
void checkImage(const Image& image);

// [1, 3, H, W] float32 in [-1, 1]: value / 255 * 2 - 1, as ComfyUI computes it. Alpha, if present, is ignored
// (compose it away first, see ReadOptions::alpha).
at::Tensor imageToTensor(const Image& image);

// How [0, 1] floats become bytes. ComfyUI and AUTOMATIC1111 both truncate (numpy's astype(uint8) after ×255);
// diffusers rounds.
enum class Quantization { Truncate, Round };

// A [1, 3, H, W] or [3, H, W] tensor in [-1, 1] (any float dtype, any device) to an RGB image:
// (x + 1) / 2 clamped to [0, 1], × 255, then truncated or rounded. Throws GessoError(InvalidArgument) on another
// shape, or when the tensor holds NaN or infinity (a failed decode must never be saved as a black image).
Image tensorToImage(const at::Tensor& tensor, Quantization quantization = Quantization::Truncate);

// Each image of a [N, 3, H, W] batch.
std::vector<Image> tensorToImages(const at::Tensor& batch, Quantization quantization = Quantization::Truncate);

}  // namespace gesso::image
