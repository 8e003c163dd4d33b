//go:build linux && cgo && !android

package main

/*
#cgo LDFLAGS: -lX11
#include <X11/Xlib.h>
#include <X11/Xutil.h>
#include <string.h>
#include <stdlib.h>

static Window find(Display *d, Window w, const char *name) {
	char *n = NULL;
	if (XFetchName(d, w, &n) && n) {
		int same = strcmp(n, name) == 0;
		XFree(n);
		if (same) return w;
	}
	Window root, parent, *kids = NULL;
	unsigned int nk = 0;
	if (!XQueryTree(d, w, &root, &parent, &kids, &nk)) return 0;
	Window found = 0;
	for (unsigned int i = 0; i < nk && !found; i++) found = find(d, kids[i], name);
	if (kids) XFree(kids);
	return found;
}

// grab copies the named window's pixels as RGBA into *out (malloc'd).
static int grab(const char *name, unsigned char **out, int *w, int *h) {
	Display *d = XOpenDisplay(NULL);
	if (!d) return -1;
	Window win = find(d, DefaultRootWindow(d), name);
	if (!win) { XCloseDisplay(d); return -2; }
	XWindowAttributes a;
	XGetWindowAttributes(d, win, &a);
	XImage *img = XGetImage(d, win, 0, 0, a.width, a.height, AllPlanes, ZPixmap);
	if (!img) { XCloseDisplay(d); return -3; }
	*w = a.width; *h = a.height;
	*out = malloc((size_t)a.width * a.height * 4);
	for (int y = 0; y < a.height; y++) {
		for (int x = 0; x < a.width; x++) {
			unsigned long p = XGetPixel(img, x, y);
			unsigned char *o = *out + ((size_t)y * a.width + x) * 4;
			o[0] = (p & img->red_mask) >> 16;
			o[1] = (p & img->green_mask) >> 8;
			o[2] = (p & img->blue_mask);
			o[3] = 255;
		}
	}
	XDestroyImage(img);
	XCloseDisplay(d);
	return 0;
}
*/
import "C"

import (
	"fmt"
	"image"
	"unsafe"
)

// grabWindow takes the pixels of the window titled name from the X
// server: what is on the screen, as a person would see it.
func grabWindow(name string) (image.Image, error) {
	cn := C.CString(name)
	defer C.free(unsafe.Pointer(cn))
	var out *C.uchar
	var w, h C.int
	if rc := C.grab(cn, &out, &w, &h); rc != 0 {
		return nil, fmt.Errorf("X11 capture of %q failed (%d)", name, int(rc))
	}
	defer C.free(unsafe.Pointer(out))
	img := image.NewRGBA(image.Rect(0, 0, int(w), int(h)))
	copy(img.Pix, unsafe.Slice((*byte)(unsafe.Pointer(out)), int(w)*int(h)*4))
	return img, nil
}
