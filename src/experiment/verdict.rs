//! What a finished run's numbers say, decided in one place so that every status line,
//! chart note and table in the lab reads the same numbers the same way.
//!
//! A run has *not learned* only when both of its final numbers sit at chance: the test
//! accuracy below 1.5 × the accuracy of guessing (15 % for ten classes), and the last
//! epoch's mean training loss within 5 % of the loss of guessing uniformly, ln(classes)
//! (2.303 nats for ten). A run at 30 % is three times chance and has learned something,
//! however little; it is reported with its accuracy. A non-finite loss is a divergence,
//! reported where it happened, and never reaches this function.

/// Test accuracy below this multiple of chance can be "not learning".
pub const NOT_LEARNING_ACCURACY_OVER_CHANCE: f32 = 1.5;
/// The last epoch's loss within this share of ln(classes) can be "not learning".
pub const NOT_LEARNING_LOSS_TOLERANCE: f32 = 0.05;

/// Whether a run that finished with these numbers learned nothing (see the module notes).
pub fn not_learning(classes: usize, last_epoch_train_loss: f32, final_test_accuracy: f32) -> bool {
    if classes < 2 || !last_epoch_train_loss.is_finite() || !final_test_accuracy.is_finite() {
        return false;
    }
    let chance_accuracy = 1.0 / classes as f32;
    let chance_loss = (classes as f32).ln();
    final_test_accuracy < NOT_LEARNING_ACCURACY_OVER_CHANCE * chance_accuracy
        && (last_epoch_train_loss - chance_loss).abs() <= NOT_LEARNING_LOSS_TOLERANCE * chance_loss
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases the lessons meet, with what the lab must say of each.
    #[test]
    fn verdict_table() {
        let ln10 = 10f32.ln();
        // (classes, last epoch's loss, test accuracy, not learning?, what it is)
        let table = [
            (10, ln10, 0.100, true, "lesson 4's plain CNN: flat at ln 10 and chance"),
            (10, 2.31, 0.112, true, "a stuck run a little off chance"),
            (10, 2.25, 0.315, false, "LayerNorm at batch 2 in lesson 5: three times chance"),
            (10, 2.28, 0.300, false, "GroupNorm at 128 in lesson 8's smoke table"),
            (10, 2.20, 0.155, false, "no norm at batch 2: above 1.5 × chance"),
            (10, 2.29, 0.149, true, "just below 1.5 × chance, loss at chance"),
            (10, 2.60, 0.100, false, "at chance accuracy but the loss is 13 % above ln 10"),
            (10, 2.00, 0.100, false, "loss clearly below chance: it fits the training data"),
            (10, 0.45, 0.850, false, "a good run"),
            (27, 27f32.ln(), 0.03, true, "the names model stuck at uniform guessing"),
            (27, 2.14, 0.30, false, "the names model after lesson 3's quick preset"),
            (10, f32::NAN, 0.1, false, "non-finite: a divergence, not this verdict"),
        ];
        for (classes, loss, accuracy, expected, case) in table {
            assert_eq!(not_learning(classes, loss, accuracy), expected, "{case}: loss {loss}, accuracy {accuracy}");
        }
    }
}
