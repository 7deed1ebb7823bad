// Prompt weights applied to encoder outputs (A1111's "Original" emphasis: weighted, then the window's mean restored),
// windows joined, and prompt/negative conditionings of different lengths matched. Expected values computed by hand.
#include "gesso/prompt/emphasis.h"

#include "gesso/error.h"

#include <ATen/ATen.h>
#include <QtTest>

using gesso::ErrorCode;
using gesso::GessoError;
using gesso::prompt::applyEmphasis;
using gesso::prompt::Emphasis;
using gesso::prompt::LengthMatching;
using gesso::prompt::matchConditioningLengths;

namespace {

double maxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

template <class Body>
bool throwsShapeMismatch(Body&& body) {
  try {
    body();
  } catch (const GessoError& error) {
    return error.error().code == ErrorCode::ShapeMismatch;
  }
  return false;
}

// Softmax attention of q over keys/values kv (one head): [B, Tq, D] × [B, Tk, D] → [B, Tq, D].
at::Tensor attend(const at::Tensor& q, const at::Tensor& kv) {
  const at::Tensor scores = at::matmul(q, kv.transpose(1, 2)) / std::sqrt(double(q.size(2)));  // [B, Tq, Tk]
  return at::matmul(at::softmax(scores, -1), kv);
}

}  // namespace

class PromptEmphasisTest : public QObject {
  Q_OBJECT

 private slots:
  void originalRestoresEachWindowsMean() {
    // Window 0: z = 1 everywhere, token 1 weighs 2 → mean of z·w = 78/77, scale 77/78.
    // Window 1: z = 2 everywhere, token 5 weighs 0.5 → mean of z·w = 153/77, scale 2·77/153 = 154/153.
    at::Tensor z = at::ones({2, 77, 1}, at::kDouble);
    z[1].fill_(2.0);
    at::Tensor weights = at::ones({2, 77}, at::kDouble);
    weights[0][1] = 2.0;
    weights[1][5] = 0.5;

    const at::Tensor out = applyEmphasis(z, weights, Emphasis::Original);
    QVERIFY(out.sizes().vec() == (std::vector<int64_t>{1, 154, 1}));
    at::Tensor expected = at::empty({1, 154, 1}, at::kDouble);
    expected.narrow(1, 0, 77).fill_(77.0 / 78.0);
    expected[0][1][0] = 2.0 * 77.0 / 78.0;
    expected.narrow(1, 77, 77).fill_(2.0 * 154.0 / 153.0);
    expected[0][77 + 5][0] = 1.0 * 154.0 / 153.0;
    const double diff = maxDiff(out, expected);
    qInfo("original emphasis by hand: maxdiff=%.3g", diff);
    QVERIFY(diff < 1e-12);
    // Each window's mean is back to what it was (1 and 2), not one mean over both windows.
    QVERIFY(std::abs(out.narrow(1, 0, 77).mean().item<double>() - 1.0) < 1e-12);
    QVERIFY(std::abs(out.narrow(1, 77, 77).mean().item<double>() - 2.0) < 1e-12);
  }

  void originalOnRandomTensor() {
    at::manual_seed(7);
    const at::Tensor z = at::randn({3, 77, 8}) + 0.5;  // [windows, 77, D], nonzero mean
    const at::Tensor weights = 0.5 + at::rand({3, 77});
    const at::Tensor out = applyEmphasis(z, weights, Emphasis::Original);
    QVERIFY(out.sizes().vec() == (std::vector<int64_t>{1, 231, 8}));
    const at::Tensor windows = out.reshape({3, 77, 8});  // [windows, 77, D]
    for (int64_t w = 0; w < 3; ++w) {
      const double before = z[w].mean().item<double>();
      const double after = windows[w].mean().item<double>();
      QVERIFY2(std::abs(before - after) < 1e-5, qPrintable(QString("window %1: %2 vs %3").arg(w).arg(before).arg(after)));
      // out = z·w·c with one constant c per window.
      const double c = before / (z[w] * weights[w].unsqueeze(-1)).mean().item<double>();
      const double diff = maxDiff(windows[w], z[w] * weights[w].unsqueeze(-1) * c);
      QVERIFY2(diff < 1e-5, qPrintable(QString("window %1: maxdiff %2").arg(w).arg(diff)));
    }
  }

  void unitWeightsChangeNothing() {
    at::manual_seed(3);
    const at::Tensor z = at::randn({2, 77, 4});
    const at::Tensor out = applyEmphasis(z, at::ones({2, 77}), Emphasis::Original);
    QVERIFY(maxDiff(out, z.reshape({1, 154, 4})) < 1e-6);
  }

  void noNormMultipliesOnly() {
    at::Tensor z = at::full({1, 77, 2}, 3.0);
    at::Tensor weights = at::ones({1, 77});
    weights[0][10] = 1.5;
    const at::Tensor out = applyEmphasis(z, weights, Emphasis::NoNorm);
    QCOMPARE(out[0][10][0].item<float>(), 4.5f);
    QCOMPARE(out[0][11][1].item<float>(), 3.0f);
  }

  void ignoreAndNoneLeaveZ() {
    at::manual_seed(5);
    const at::Tensor z = at::randn({2, 77, 3});
    const at::Tensor weights = at::full({2, 77}, 2.0f);
    QVERIFY(at::equal(applyEmphasis(z, weights, Emphasis::Ignore), z.reshape({1, 154, 3})));
    QVERIFY(at::equal(applyEmphasis(z, weights, Emphasis::None), z.reshape({1, 154, 3})));
  }

  void windowsJoinInOrder() {
    // Window w holds the value w everywhere: the joined tokens 77w..77w+76 hold w (torch.hstack order).
    const at::Tensor z = at::arange(3, at::kFloat).reshape({3, 1, 1}).expand({3, 77, 2}).contiguous() + 1;
    const at::Tensor out = applyEmphasis(z, at::ones({3, 77}), Emphasis::Original);
    for (int64_t w = 0; w < 3; ++w) {
      QCOMPARE(out[0][77 * w][0].item<float>(), float(w + 1));
      QCOMPARE(out[0][77 * w + 76][1].item<float>(), float(w + 1));
    }
  }

  void halfKeepsDtype() {
    at::Tensor z = at::ones({1, 77, 2}, at::kHalf);
    at::Tensor weights = at::ones({1, 77});
    weights[0][1] = 2.0f;
    const at::Tensor out = applyEmphasis(z, weights);
    QCOMPARE(out.scalar_type(), at::kHalf);
    QVERIFY(std::abs(out[0][1][0].item<float>() - float(2.0 * 77.0 / 78.0)) < 2e-3);
  }

  void rejectsBadShapes() {
    QVERIFY(throwsShapeMismatch([] { applyEmphasis(at::zeros({1, 76, 4}), at::ones({1, 76})); }));
    QVERIFY(throwsShapeMismatch([] { applyEmphasis(at::zeros({2, 77, 4}), at::ones({1, 77})); }));
    QVERIFY(throwsShapeMismatch([] { applyEmphasis(at::zeros({77, 4}), at::ones({1, 77})); }));
  }

  void repeatToCommonMultiple() {
    at::manual_seed(11);
    const at::Tensor cond = at::randn({2, 231, 4});
    const at::Tensor uncond = at::randn({2, 154, 4});
    const auto [c, u] = matchConditioningLengths(cond, uncond);
    QVERIFY(c.sizes().vec() == (std::vector<int64_t>{2, 462, 4}));
    QVERIFY(u.sizes().vec() == (std::vector<int64_t>{2, 462, 4}));
    QVERIFY(at::equal(c.narrow(1, 231, 231), cond));
    QVERIFY(at::equal(u.narrow(1, 308, 154), uncond));
    // Attention over the repeated keys equals attention over the original ones: the batched call gives what two
    // separate calls (A1111's default) give.
    const at::Tensor q = at::randn({2, 5, 4});
    const double diff_cond = maxDiff(attend(q, c), attend(q, cond));
    const double diff_uncond = maxDiff(attend(q, u), attend(q, uncond));
    qInfo("repeated-context attention: maxdiff cond=%.3g uncond=%.3g", diff_cond, diff_uncond);
    QVERIFY(diff_cond < 1e-5 && diff_uncond < 1e-5);
  }

  void appendEmptyPrompt() {
    const at::Tensor cond = at::ones({1, 231, 2});
    const at::Tensor uncond = at::zeros({1, 77, 2});
    const at::Tensor empty = at::full({1, 77, 2}, 7.0f);
    {
      const auto [c, u] = matchConditioningLengths(cond, uncond, LengthMatching::AppendEmptyPrompt, empty);
      QVERIFY(at::equal(c, cond));
      QVERIFY(u.sizes().vec() == (std::vector<int64_t>{1, 231, 2}));
      QVERIFY(at::equal(u.narrow(1, 0, 77), uncond));
      QVERIFY(at::equal(u.narrow(1, 77, 154), at::full({1, 154, 2}, 7.0f)));
    }
    {
      const auto [u, c] = matchConditioningLengths(uncond, cond, LengthMatching::AppendEmptyPrompt, empty);
      QVERIFY(u.sizes().vec() == (std::vector<int64_t>{1, 231, 2}));  // the shorter side is padded, cond or not
      QVERIFY(at::equal(c, cond));
    }
    QVERIFY(throwsShapeMismatch([&] { matchConditioningLengths(cond, uncond, LengthMatching::AppendEmptyPrompt); }));
    QVERIFY(throwsShapeMismatch(
        [&] { matchConditioningLengths(cond, at::zeros({1, 70, 2}), LengthMatching::AppendEmptyPrompt, empty); }));
  }

  void repeatLastToken() {
    const at::Tensor cond = at::zeros({1, 154, 2});
    const at::Tensor uncond = at::arange(154, at::kFloat).reshape({1, 77, 2});
    const auto [c, u] = matchConditioningLengths(cond, uncond, LengthMatching::RepeatLastToken);
    QVERIFY(at::equal(c, cond));
    QVERIFY(u.sizes().vec() == (std::vector<int64_t>{1, 154, 2}));
    QVERIFY(at::equal(u.narrow(1, 0, 77), uncond));
    QCOMPARE(u[0][153][0].item<float>(), 152.0f);  // the last vector (152, 153) repeated
    QCOMPARE(u[0][100][1].item<float>(), 153.0f);
    // A longer negative prompt is cut to the prompt's length.
    const auto [c2, u2] = matchConditioningLengths(uncond, at::zeros({1, 154, 2}), LengthMatching::RepeatLastToken);
    QVERIFY(at::equal(c2, uncond));
    QVERIFY(u2.sizes().vec() == (std::vector<int64_t>{1, 77, 2}));
  }

  void equalLengthsUnchangedAndBadShapesRejected() {
    const at::Tensor a = at::ones({1, 77, 2});
    const at::Tensor b = at::zeros({1, 77, 2});
    const auto [c, u] = matchConditioningLengths(a, b);
    QVERIFY(c.is_same(a) && u.is_same(b));
    QVERIFY(throwsShapeMismatch([&] { matchConditioningLengths(a, at::zeros({2, 154, 2})); }));
    QVERIFY(throwsShapeMismatch([&] { matchConditioningLengths(a, at::zeros({1, 154, 3})); }));
  }
};

QTEST_GUILESS_MAIN(PromptEmphasisTest)
#include "test_prompt_emphasis.moc"
