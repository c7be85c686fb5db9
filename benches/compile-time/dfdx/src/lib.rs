//! Nothing here: the example is what is timed.
