// Image buffers and their conversion to and from VAE tensors (see image.h).
#include "gesso/image/image.h"

#include "gesso/error.h"

#include <ATen/ATen.h>

#include <cstring>
#include <string>

namespace gesso::image {

namespace {
std::string describeSizes(const at::Tensor& tensor) {
  std::string text = "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) text += (i ? ", " : "") + std::to_string(tensor.size(i));
  return text + "]";
}
}  // namespace

Image makeImage(int64_t width, int64_t height, int channels) {
  if (width <= 0 || height <= 0) {
    fail(ErrorCode::InvalidArgument, "image size " + std::to_string(width) + "x" + std::to_string(height) + " is not positive");
  }
  if (channels != 3 && channels != 4) {
    fail(ErrorCode::InvalidArgument, "an image has 3 or 4 channels, not " + std::to_string(channels));
  }
  Image image;
  image.width = width;
  image.height = height;
  image.channels = channels;
  image.data.assign(image.byteSize(), 0);
  return image;
}

void checkImage(const Image& image) {
  if (image.width <= 0 || image.height <= 0 || (image.channels != 3 && image.channels != 4)) {
    fail(ErrorCode::InvalidArgument, "image " + std::to_string(image.width) + "x" + std::to_string(image.height) + " with " +
                                         std::to_string(image.channels) + " channels: expected a positive size and 3 or 4 channels");
  }
  if (image.data.size() != image.byteSize()) {
    fail(ErrorCode::InvalidArgument, "image " + std::to_string(image.width) + "x" + std::to_string(image.height) + "x" +
                                         std::to_string(image.channels) + " holds " + std::to_string(image.data.size()) +
                                         " bytes, expected " + std::to_string(image.byteSize()));
  }
}

at::Tensor imageToTensor(const Image& image) {
  checkImage(image);
  const at::Tensor bytes = at::from_blob(const_cast<uint8_t*>(image.data.data()), {image.height, image.width, image.channels},
                                         at::TensorOptions().dtype(at::kByte));  // [H, W, C]
  const at::Tensor rgb = bytes.narrow(2, 0, 3).permute({2, 0, 1}).unsqueeze(0);  // [1, 3, H, W]
  // The same float32 operations as ComfyUI (bytes / 255, then x * 2 - 1), so the VAE sees identical inputs.
  return (rgb.to(at::kFloat) / 255.0f * 2.0f - 1.0f).contiguous();
}

Image tensorToImage(const at::Tensor& tensor, Quantization quantization) {
  at::Tensor chw = tensor;
  if (chw.dim() == 4 && chw.size(0) == 1) chw = chw.squeeze(0);  // [3, H, W]
  if (chw.dim() != 3 || chw.size(0) != 3 || chw.size(1) <= 0 || chw.size(2) <= 0) {
    fail(ErrorCode::InvalidArgument, "an image tensor is [1, 3, H, W] or [3, H, W], got " + describeSizes(tensor));
  }
  if (!at::isFloatingType(chw.scalar_type())) {
    fail(ErrorCode::InvalidArgument, "an image tensor holds floats in [-1, 1], got dtype " + std::string(c10::toString(chw.scalar_type())));
  }
  at::Tensor values = chw.to(at::kCPU).to(at::kFloat);
  if (!at::isfinite(values).all().item<bool>()) {
    fail(ErrorCode::InvalidArgument, "the image tensor " + describeSizes(tensor) +
                                         " holds NaN or infinite values (the VAE decode failed; try float32)");
  }
  at::Tensor scaled = ((values + 1.0f) / 2.0f).clamp(0.0f, 1.0f) * 255.0f;
  scaled = quantization == Quantization::Round ? scaled.round() : scaled.trunc();
  const at::Tensor hwc = scaled.to(at::kByte).permute({1, 2, 0}).contiguous();  // [H, W, 3]
  Image image = makeImage(hwc.size(1), hwc.size(0), 3);
  std::memcpy(image.data.data(), hwc.data_ptr<uint8_t>(), image.byteSize());
  return image;
}

std::vector<Image> tensorToImages(const at::Tensor& batch, Quantization quantization) {
  if (batch.dim() != 4) fail(ErrorCode::InvalidArgument, "an image batch is [N, 3, H, W], got " + describeSizes(batch));
  std::vector<Image> images;
  images.reserve(static_cast<size_t>(batch.size(0)));
  for (int64_t i = 0; i < batch.size(0); ++i) images.push_back(tensorToImage(batch[i], quantization));
  return images;
}

}  // namespace gesso::image
