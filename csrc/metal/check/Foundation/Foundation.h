// csrc/metal/check/Foundation/Foundation.h — declarations of the few Foundation names that
// backend.mm uses, so clang can parse it as Objective-C++ on Linux (see ../metal_stdlib). They
// state the signatures as Apple documents them; the macOS CI job builds against the real SDK.
#pragma once
#include <stddef.h>
#include <stdint.h>
typedef unsigned long NSUInteger;
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO ((BOOL)0)
#define nil nullptr
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))
@interface NSObject
+ (instancetype)new;
@end
@interface NSString : NSObject
+ (instancetype)stringWithUTF8String:(const char *)s;
@property(readonly) const char *UTF8String;
@end
@interface NSError : NSObject
@property(readonly, copy) NSString *localizedDescription;
@end
