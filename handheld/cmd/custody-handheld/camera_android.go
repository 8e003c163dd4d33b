//go:build android

// The Android camera adapter. It is written against the NDK's Camera2
// API (libcamera2ndk) and AImageReader (libmediandk): the back camera
// streams YUV_420_888 frames at 1280×720 into an image reader, and each
// frame's Y plane is handed to a source.Push, which copies it and drops
// frames while the decoder is busy. The camera permission is declared
// in AndroidManifest.xml and asked for at run time (Android 6 and later)
// through the activity, by JNI, the first time the camera is turned on.
//
// It builds only with the Android NDK (task package:android); this
// repository's build machines have none, so it is not compiled there.
// Everything it feeds — source.Push, the scanner, the screens — is
// built and tested on every run.

package main

/*
#cgo LDFLAGS: -lcamera2ndk -lmediandk -landroid -llog
#include <stdlib.h>
#include <string.h>
#include <jni.h>
#include <camera/NdkCameraManager.h>
#include <camera/NdkCameraDevice.h>
#include <camera/NdkCameraCaptureSession.h>
#include <camera/NdkCameraMetadata.h>
#include <media/NdkImageReader.h>

extern void goCameraFrame(uintptr_t handle, uint8_t *y, int w, int h, int stride, int64_t ts);

typedef struct {
	uintptr_t handle;
	ACameraManager *mgr;
	ACameraDevice *dev;
	AImageReader *reader;
	ANativeWindow *win;
	ACaptureSessionOutputContainer *outputs;
	ACaptureSessionOutput *output;
	ACameraOutputTarget *target;
	ACaptureRequest *req;
	ACameraCaptureSession *session;
} cam_t;

static void on_image(void *ctx, AImageReader *reader) {
	cam_t *c = (cam_t *)ctx;
	AImage *img = NULL;
	if (AImageReader_acquireLatestImage(reader, &img) != AMEDIA_OK || img == NULL) return;
	uint8_t *y = NULL;
	int len = 0, stride = 0;
	int32_t w = 0, h = 0;
	int64_t ts = 0;
	AImage_getWidth(img, &w);
	AImage_getHeight(img, &h);
	AImage_getTimestamp(img, &ts);
	if (AImage_getPlaneData(img, 0, &y, &len) == AMEDIA_OK && AImage_getPlaneRowStride(img, 0, &stride) == AMEDIA_OK) {
		goCameraFrame(c->handle, y, w, h, stride, ts);
	}
	AImage_delete(img);
}

static void on_disconnected(void *ctx, ACameraDevice *dev) {}
static void on_error(void *ctx, ACameraDevice *dev, int err) {}
static void on_session(void *ctx, ACameraCaptureSession *s) {}

// back_camera picks the first camera facing back, else the first one.
static const char *back_camera(ACameraManager *mgr, ACameraIdList **ids) {
	if (ACameraManager_getCameraIdList(mgr, ids) != ACAMERA_OK || (*ids)->numCameras < 1) return NULL;
	for (int i = 0; i < (*ids)->numCameras; i++) {
		ACameraMetadata *meta = NULL;
		if (ACameraManager_getCameraCharacteristics(mgr, (*ids)->cameraIds[i], &meta) != ACAMERA_OK) continue;
		ACameraMetadata_const_entry e;
		int back = ACameraMetadata_getConstEntry(meta, ACAMERA_LENS_FACING, &e) == ACAMERA_OK &&
			e.data.u8[0] == ACAMERA_LENS_FACING_BACK;
		ACameraMetadata_free(meta);
		if (back) return (*ids)->cameraIds[i];
	}
	return (*ids)->cameraIds[0];
}

// cam_open starts streaming w×h luminance frames; it returns 0 or a
// negative step number that failed.
static int cam_open(cam_t *c, int w, int h) {
	c->mgr = ACameraManager_create();
	ACameraIdList *ids = NULL;
	const char *id = back_camera(c->mgr, &ids);
	if (id == NULL) return -1;
	if (AImageReader_new(w, h, AIMAGE_FORMAT_YUV_420_888, 4, &c->reader) != AMEDIA_OK) return -2;
	AImageReader_ImageListener l = { .context = c, .onImageAvailable = on_image };
	AImageReader_setImageListener(c->reader, &l);
	AImageReader_getWindow(c->reader, &c->win);
	ACameraDevice_StateCallbacks dcb = { .context = c, .onDisconnected = on_disconnected, .onError = on_error };
	camera_status_t st = ACameraManager_openCamera(c->mgr, id, &dcb, &c->dev);
	ACameraManager_deleteCameraIdList(ids);
	if (st != ACAMERA_OK) return -3;
	ACaptureSessionOutputContainer_create(&c->outputs);
	ACaptureSessionOutput_create(c->win, &c->output);
	ACaptureSessionOutputContainer_add(c->outputs, c->output);
	ACameraOutputTarget_create(c->win, &c->target);
	if (ACameraDevice_createCaptureRequest(c->dev, TEMPLATE_PREVIEW, &c->req) != ACAMERA_OK) return -4;
	ACaptureRequest_addTarget(c->req, c->target);
	uint8_t af = ACAMERA_CONTROL_AF_MODE_CONTINUOUS_PICTURE;
	ACaptureRequest_setEntry_u8(c->req, ACAMERA_CONTROL_AF_MODE, 1, &af);
	ACameraCaptureSession_stateCallbacks scb = { .context = c, .onClosed = on_session, .onReady = on_session, .onActive = on_session };
	if (ACameraDevice_createCaptureSession(c->dev, c->outputs, &scb, &c->session) != ACAMERA_OK) return -5;
	if (ACameraCaptureSession_setRepeatingRequest(c->session, NULL, 1, &c->req, NULL) != ACAMERA_OK) return -6;
	return 0;
}

static void cam_close(cam_t *c) {
	if (c->session) { ACameraCaptureSession_stopRepeating(c->session); ACameraCaptureSession_close(c->session); }
	if (c->req) ACaptureRequest_free(c->req);
	if (c->target) ACameraOutputTarget_free(c->target);
	if (c->output) ACaptureSessionOutput_free(c->output);
	if (c->outputs) ACaptureSessionOutputContainer_free(c->outputs);
	if (c->dev) ACameraDevice_close(c->dev);
	if (c->reader) AImageReader_delete(c->reader);
	if (c->mgr) ACameraManager_delete(c->mgr);
	memset(c, 0, sizeof(*c));
}

// ask_permission asks the activity for the camera permission when it is
// not granted yet (Activity.checkSelfPermission, requestPermissions).
// It returns 1 when granted already, 0 when it asked.
static int ask_permission(uintptr_t vmp, uintptr_t envp, uintptr_t ctxp) {
	JNIEnv *env = (JNIEnv *)envp;
	jobject act = (jobject)ctxp;
	jclass cls = (*env)->GetObjectClass(env, act);
	jstring perm = (*env)->NewStringUTF(env, "android.permission.CAMERA");
	jmethodID check = (*env)->GetMethodID(env, cls, "checkSelfPermission", "(Ljava/lang/String;)I");
	if (check && (*env)->CallIntMethod(env, act, check, perm) == 0) return 1; // PERMISSION_GRANTED
	jclass str = (*env)->FindClass(env, "java/lang/String");
	jobjectArray arr = (*env)->NewObjectArray(env, 1, str, perm);
	jmethodID req = (*env)->GetMethodID(env, cls, "requestPermissions", "([Ljava/lang/String;I)V");
	if (req) (*env)->CallVoidMethod(env, act, req, arr, 7);
	return 0;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"runtime/cgo"
	"time"
	"unsafe"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver"

	"github.com/custodyhq/custody/handheld/scan"
	"github.com/custodyhq/custody/handheld/scan/source"
	"github.com/custodyhq/custody/handheld/ui"
)

// androidCam is one open camera: the C state and the push source the
// frames go to.
type androidCam struct {
	c      *C.cam_t
	push   *source.Push
	handle cgo.Handle
}

//export goCameraFrame
func goCameraFrame(handle C.uintptr_t, y *C.uint8_t, w, h, stride C.int, ts C.int64_t) {
	a := cgo.Handle(handle).Value().(*androidCam)
	n := int(stride)*(int(h)-1) + int(w)
	a.push.Push(unsafe.Slice((*byte)(unsafe.Pointer(y)), n), int(w), int(h), int(stride), time.Now())
}

// Next implements scan.Source.
func (a *androidCam) Next(ctx context.Context) (scan.Frame, error) { return a.push.Next(ctx) }

// Close stops the camera.
func (a *androidCam) Close() error {
	C.cam_close(a.c)
	C.free(unsafe.Pointer(a.c))
	a.handle.Delete()
	return a.push.Close()
}

// defaultCamera on Android is the back camera.
func defaultCamera() (ui.Camera, error) { return androidCamera() }

// v4l2Camera: V4L2 is Linux's desktop camera interface, not Android's.
func v4l2Camera(dev string) (ui.Camera, error) {
	return nil, fmt.Errorf("--camera v4l2:%s: use the device's own camera on Android (the default)", dev)
}

// androidCamera is the default camera on Android: the back camera, after
// the person granted the permission.
func androidCamera() (ui.Camera, error) {
	return func() (scan.Source, error) {
		granted := false
		if nd, ok := fyne.CurrentApp().Driver().(driver.NativeDriver); ok {
			nd.RunNative(func(ctx any) {
				if ac, ok := ctx.(*driver.AndroidContext); ok {
					granted = C.ask_permission(C.uintptr_t(ac.VM), C.uintptr_t(ac.Env), C.uintptr_t(ac.Ctx)) == 1
				}
			})
		}
		if !granted {
			return nil, errors.New("allow Custody to use the camera, then turn it on again")
		}
		a := &androidCam{c: (*C.cam_t)(C.calloc(1, C.size_t(unsafe.Sizeof(C.cam_t{})))), push: source.NewPush(2)}
		a.handle = cgo.NewHandle(a)
		a.c.handle = C.uintptr_t(a.handle)
		if rc := C.cam_open(a.c, 1280, 720); rc != 0 {
			a.Close()
			return nil, fmt.Errorf("the camera did not open (step %d)", int(rc))
		}
		return a, nil
	}, nil
}
