/**
 * 3-D (volumetric, NCDHW) kernels: convolution and transposed convolution by vol2col + GEMM ({@link
 * tessera.kernels.volume.Conv3d}) and pooling by direct loops ({@link tessera.kernels.volume.Pool3d}), each with a
 * float64 reference that float64 tensors run and the tests compare against.
 */
package tessera.kernels.volume;
