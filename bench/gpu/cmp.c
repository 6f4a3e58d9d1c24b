/* cmp A.f32 B.f32 V [rowsfile]: max |A-B| and relative to max|B|; rowsfile selects rows of A (positions) */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
static float *rd(const char *p, long *n){FILE*f=fopen(p,"rb");if(!f){perror(p);exit(1);}fseek(f,0,2);*n=ftell(f)/4;fseek(f,0,0);float*b=malloc(*n*4);if(fread(b,4,*n,f)!=(size_t)*n){fprintf(stderr,"%s: short read\n",p);exit(1);}fclose(f);return b;}
int main(int c,char**v){long na,nb;float*a=rd(v[1],&na),*b=rd(v[2],&nb);int V=atoi(v[3]);double md=0,mx=0;
 if(c>4){FILE*f=fopen(v[4],"r");int p,i=0;while(fscanf(f,"%d",&p)==1){for(int j=0;j<V;j++){double d=fabs(a[(long)p*V+j]-b[(long)i*V+j]);if(d>md)md=d;if(fabs(b[(long)i*V+j])>mx)mx=fabs(b[(long)i*V+j]);}i++;}}
 else{if(na!=nb){printf("size mismatch %ld %ld\n",na,nb);return 1;}for(long i=0;i<na;i++){double d=fabs(a[i]-b[i]);if(d>md)md=d;if(fabs(b[i])>mx)mx=fabs(b[i]);}}
 printf("maxdiff %.3e rel %.3e\n",md,md/mx);return 0;}
