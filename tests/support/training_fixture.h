// Tiny captioned training sets (64x64 PNGs with same-name .txt captions) and a tensor-file comparison for the
// training tests.
#pragma once

#include <string>

namespace gesso::test {

// The pictures the training tests train on; picture i is <stem>i.png with its caption in <stem>i.txt.
enum class TinyImages {
  Squares,       // img<i>: a 32x32 square of one colour in a corner, on another; "a red square, green background"
  PlainColours,  // image<i>: one channel at 200, the others at 40 + 30 i; "a plain colour <i>"
  Patterns,      // img<i>: the byte ramp (p (i + 3)) mod 251; "a pattern number <i>"
};

// Writes pictures first .. first + count - 1 of `kind` into `folder` (created if missing).
void writeTinyDataset(const std::string& folder, TinyImages kind, int count, int first = 0);

// Max |a - b| over every tensor of two safetensors files with the same names (+inf if the names differ).
double maxFileDiff(const std::string& a_path, const std::string& b_path);

}  // namespace gesso::test
