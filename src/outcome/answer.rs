//! The one place a decision's end becomes a client-visible answer.
