// The AVX2 stem kernel alone (CKernels/stem_avx2.c), outside the plan: best of 30 runs on synthetic input, and its
// pooled output against a plain double-precision reference at a sample of points.
//
// Usage: clang -O3 -ISources/CKernels/include bench/cpu/stem_avx2.c Sources/CKernels/stem_avx2.c -lgomp -o /tmp/stem \
//            && /tmp/stem BATCH THREADS
// GFLOP/s count 2 operations a multiply-add (the stem is 118 M multiply-adds an image).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "stem_avx2.h"
static double now(void){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec*1e3+t.tv_nsec/1e6;}
int main(int argc, char**argv){
  int batch = atoi(argv[1]), threads = atoi(argv[2]);
  float *src = aligned_alloc(64, (size_t)batch*3*224*224*4), *w = aligned_alloc(64, 147*64*4), *oihw = malloc(147*64*4), bias[64];
  for (size_t i=0;i<(size_t)batch*3*224*224;i++) src[i] = (float)((i*7919)%1000)/500.0f-1;
  for (int i=0;i<147*64;i++) oihw[i] = (float)((i*31)%200)/1000.0f-0.1f;
  for (int i=0;i<64;i++) bias[i]=0.01f*i;
  resnet18_stem_avx2_pack_weights(oihw, w);
  float *dst = aligned_alloc(64, (size_t)batch*64*56*56*4);
  void *scratch = aligned_alloc(64, (resnet18_stem_avx2_scratch_bytes(batch, threads)+63)&~63);
  resnet18_stem_avx2 s = {batch, src, w, bias, dst, scratch, threads};
  for (int i=0;i<5;i++) resnet18_stem_avx2_run(&s);
  double best=1e9; for (int i=0;i<30;i++){ double t=now(); resnet18_stem_avx2_run(&s); t=now()-t; if(t<best)best=t;}
  printf("batch %d threads %d: best %.3f ms (%.1f GFLOP/s)\n", batch, threads, best, 2*batch*118.013e6/best/1e6);
  // reference check for a few outputs
  double maxd=0;
  for (int n=0;n<batch;n++) for (int o=0;o<64;o+=7) for (int py=0;py<56;py+=5) for (int px=0;px<56;px+=3){
    float m=-1e30f;
    for (int dy=-1;dy<=1;dy++) for(int dx=-1;dx<=1;dx++){ int oh=2*py+dy, ow=2*px+dx; if(oh<0||ow<0||oh>=112||ow>=112) continue;
      double acc=bias[o]; for(int c=0;c<3;c++) for(int kh=0;kh<7;kh++) for(int kw=0;kw<7;kw++){ int y=2*oh+kh-3,x=2*ow+kw-3; if(y<0||x<0||y>=224||x>=224) continue; acc+= (double)oihw[((o*3+c)*7+kh)*7+kw]*src[((size_t)(n*3+c)*224+y)*224+x];}
      if(acc<0)acc=0; if(acc>m)m=acc; }
    float got = dst[(((size_t)n*8 + o/8)*56+py)*56*8 + px*8 + o%8];
    double d = got-m; if(d<0)d=-d; if(d>maxd)maxd=d; }
  printf("max abs diff vs reference %.3g\n", maxd);
}
