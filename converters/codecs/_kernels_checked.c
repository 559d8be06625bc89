/* The bounds-checked build of _kernels.c: every array index is checked, one out of range raises
   IndexError. converters/_native.py loads it when VOSCONV_BOUNDSCHECK=1 (make test's second run). */
#define VOSCONV_BOUNDSCHECK 1
#include "_kernels.c"
