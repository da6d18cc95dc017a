// How many multiply-adds a second one core does with each of the instructions an int8 or fp32 convolution can use
// on an AVX2 CPU: fp32 FMA (vfmadd231ps, 8 a vector), 16-bit pairs (vpmaddwd + vpaddd, 16) and u8 x s8 quadruples
// (vpmaddubsw + vpmaddwd + vpaddd, 32, what oneDNN's and ONNX Runtime's AVX2 int8 code run). Ten independent chains
// of each, so the rate is the units' throughput, not one chain's latency.
//
// Usage: clang -O2 bench/cpu/multiply_rates.c -o /tmp/multiply_rates && /tmp/multiply_rates
#include <immintrin.h>
#include <stdio.h>
#include <time.h>
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
#define N 100000000L
__attribute__((target("avx2,fma"))) int main(void){
  __m256 a[10]; __m256 x=_mm256_set1_ps(1.0001f), y=_mm256_set1_ps(0.9999f);
  for(int i=0;i<10;i++) a[i]=_mm256_set1_ps(i);
  double t=now();
  for(long n=0;n<N;n++){
    #pragma clang loop unroll(full)
    for(int i=0;i<10;i++) a[i]=_mm256_fmadd_ps(a[i],x,y);
    __asm__ volatile("" : "+x"(a[0]),"+x"(a[1]),"+x"(a[2]),"+x"(a[3]),"+x"(a[4]),"+x"(a[5]),"+x"(a[6]),"+x"(a[7]),"+x"(a[8]),"+x"(a[9]));
  }
  double fma=now()-t;
  __m256i b[10]; __m256i p=_mm256_set1_epi16(3), q=_mm256_set1_epi16(5);
  for(int i=0;i<10;i++) b[i]=_mm256_set1_epi32(i);
  t=now();
  for(long n=0;n<N;n++){
    #pragma clang loop unroll(full)
    for(int i=0;i<10;i++) b[i]=_mm256_add_epi32(b[i],_mm256_madd_epi16(b[i],q));
    __asm__ volatile("" : "+x"(b[0]),"+x"(b[1]),"+x"(b[2]),"+x"(b[3]),"+x"(b[4]),"+x"(b[5]),"+x"(b[6]),"+x"(b[7]),"+x"(b[8]),"+x"(b[9]),"+x"(p),"+x"(q));
  }
  double madd=now()-t;
  __m256i u=_mm256_set1_epi8(3), s=_mm256_set1_epi8(5), ones=_mm256_set1_epi16(1);
  t=now();
  for(long n=0;n<N;n++){
    #pragma clang loop unroll(full)
    for(int i=0;i<10;i++) b[i]=_mm256_add_epi32(b[i],_mm256_madd_epi16(_mm256_maddubs_epi16(b[i],s),ones));
    __asm__ volatile("" : "+x"(b[0]),"+x"(b[1]),"+x"(b[2]),"+x"(b[3]),"+x"(b[4]),"+x"(b[5]),"+x"(b[6]),"+x"(b[7]),"+x"(b[8]),"+x"(b[9]),"+x"(u),"+x"(s));
  }
  double u8=now()-t;
  printf("fp32 FMA: %.2f G MAC/s; s16 vpmaddwd+vpaddd: %.2f G MAC/s; u8xs8 vpmaddubsw+vpmaddwd+vpaddd: %.2f G MAC/s (one thread)\n",
    N*10*8/fma/1e9, N*10*16/madd/1e9, N*10*32/u8/1e9);
  float o[8]; _mm256_storeu_ps(o,a[3]); int oi[8]; _mm256_storeu_si256((__m256i*)oi,b[3]); printf("(checksums, so that nothing is optimised away: %g %d)\n", o[0], oi[0]);
}
