//! Figure 3 panels drawn with plotters, shared by the notebooks and the tests.
