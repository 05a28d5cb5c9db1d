//! The time steps of a metrics request, as Tempo's engine maps them.
//!
//! A range request `(start, end, step)` is widened to whole steps: start
//! rounded down and end rounded up to multiples of `step`. Steps are closed
//! on the right, `(start + i·step, start + (i+1)·step]`, and each is stamped
//! with its right end. An instant request has one step, `[start, end]`
//! (both ends included), stamped `end`.

use super::{MetricsRequest, MAX_METRICS_STEPS};
use crate::eval::EvalError;

const NS_PER_MS: i64 = 1_000_000;

/// The steps of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Intervals {
    /// Start of the first step (excluded for a range, included for an
    /// instant request).
    start: i64,
    /// End of the last step (included).
    end: i64,
    /// Length of a step; `end - start` for an instant request.
    step: i64,
    count: usize,
    instant: bool,
}

impl Intervals {
    pub(super) fn new(req: &MetricsRequest) -> Result<Intervals, EvalError> {
        if req.end_ns <= req.start_ns {
            return Err(EvalError::Invalid(format!(
                "the metrics request ends ({}) at or before its start ({})",
                req.end_ns, req.start_ns
            )));
        }
        if req.instant {
            return Ok(Intervals {
                start: req.start_ns,
                end: req.end_ns,
                step: req.end_ns.saturating_sub(req.start_ns),
                count: 1,
                instant: true,
            });
        }
        let step = req.step_ns;
        if step <= 0 {
            return Err(EvalError::Invalid(format!(
                "the metrics step must be positive, not {step}ns"
            )));
        }
        let start = align_down(req.start_ns, step).ok_or_else(|| {
            EvalError::Invalid(format!(
                "the metrics request start {} overflows",
                req.start_ns
            ))
        })?;
        let end = align_up(req.end_ns, step).ok_or_else(|| {
            EvalError::Invalid(format!("the metrics request end {} overflows", req.end_ns))
        })?;
        // Both are multiples of `step` and end > start: at least one step.
        let steps = (i128::from(end) - i128::from(start)) / i128::from(step);
        let steps = u64::try_from(steps).unwrap_or(u64::MAX);
        if steps > MAX_METRICS_STEPS {
            return Err(EvalError::TooManySteps {
                steps,
                limit: MAX_METRICS_STEPS,
            });
        }
        Ok(Intervals {
            start,
            end,
            step,
            count: usize::try_from(steps).unwrap_or(usize::MAX),
            instant: false,
        })
    }

    /// How many steps.
    pub(super) fn count(&self) -> usize {
        self.count
    }

    /// Length of a step in seconds (for `rate()`).
    pub(super) fn step_seconds(&self) -> f64 {
        self.step as f64 / 1e9
    }

    /// The step holding the time `ts_ns`, if any.
    pub(super) fn index(&self, ts_ns: i64) -> Option<usize> {
        if self.instant {
            return (self.start <= ts_ns && ts_ns <= self.end).then_some(0);
        }
        if ts_ns <= self.start || ts_ns > self.end {
            return None;
        }
        // A time on a boundary belongs to the step that it ends. In i128:
        // the range may span more than i64.
        let offset = i128::from(ts_ns) - i128::from(self.start) - 1;
        usize::try_from(offset / i128::from(self.step)).ok()
    }

    /// The time stamp of step `i`, in Unix milliseconds: its right end.
    pub(super) fn timestamp_ms(&self, i: usize) -> i64 {
        let ns = if self.instant {
            self.end
        } else {
            let i = i64::try_from(i).unwrap_or(i64::MAX);
            self.start
                .saturating_add(i.saturating_add(1).saturating_mul(self.step))
        };
        ns.div_euclid(NS_PER_MS)
    }
}

/// `t` rounded down to a multiple of `step` (> 0); `None` on overflow.
pub(super) fn align_down(t: i64, step: i64) -> Option<i64> {
    t.checked_sub(t.rem_euclid(step))
}

/// `t` rounded up to a multiple of `step` (> 0); `None` on overflow.
pub(super) fn align_up(t: i64, step: i64) -> Option<i64> {
    match t.rem_euclid(step) {
        0 => Some(t),
        r => t.checked_add(step - r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000_000;

    #[test]
    fn range_steps_are_closed_on_the_right_and_stamped_at_their_end() {
        let iv = Intervals::new(&MetricsRequest::range(10 * S + 5, 40 * S - 5, 10 * S)).unwrap();
        assert_eq!(iv.count(), 3);
        assert_eq!(iv.index(10 * S), None);
        assert_eq!(iv.index(10 * S + 1), Some(0));
        assert_eq!(iv.index(20 * S), Some(0));
        assert_eq!(iv.index(20 * S + 1), Some(1));
        assert_eq!(iv.index(40 * S), Some(2));
        assert_eq!(iv.index(40 * S + 1), None);
        assert_eq!(
            (0..3).map(|i| iv.timestamp_ms(i)).collect::<Vec<_>>(),
            [20_000, 30_000, 40_000]
        );
    }

    #[test]
    fn instant_requests_have_one_step_including_both_ends() {
        let iv = Intervals::new(&MetricsRequest::instant(10 * S, 20 * S)).unwrap();
        assert_eq!(iv.count(), 1);
        assert_eq!(iv.index(10 * S), Some(0));
        assert_eq!(iv.index(20 * S), Some(0));
        assert_eq!(iv.index(20 * S + 1), None);
        assert_eq!(iv.timestamp_ms(0), 20_000);
        assert_eq!(iv.step_seconds(), 10.0);
    }

    #[test]
    fn ranges_wider_than_i64_do_not_overflow() {
        let step = 1 << 62;
        let iv = Intervals::new(&MetricsRequest::range(-step, step, step)).unwrap();
        assert_eq!(iv.count(), 2);
        assert_eq!(iv.index(step), Some(1));
        assert_eq!(iv.index(i64::MIN), None);
        assert_eq!(iv.timestamp_ms(1), step / 1_000_000);
    }

    #[test]
    fn bad_requests_are_refused() {
        assert!(Intervals::new(&MetricsRequest::range(5, 5, 1)).is_err());
        assert!(Intervals::new(&MetricsRequest::range(0, 5, 0)).is_err());
        assert!(Intervals::new(&MetricsRequest::range(0, i64::MAX, 7)).is_err());
        assert!(Intervals::new(&MetricsRequest::range(i64::MIN, 0, 3)).is_err());
        assert!(matches!(
            Intervals::new(&MetricsRequest::range(0, 1_000_000, 1)),
            Err(EvalError::TooManySteps { .. })
        ));
    }
}
