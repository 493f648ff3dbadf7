/* A photo chosen on a phone, made small enough to send: at most ``maxSide`` pixels on its longer side, JPEG,
   upright as the camera held it (EXIF orientation applied, the EXIF itself not kept). The server checks and
   cleans it again; this only spares a phone's data plan a 12-megapixel upload.
   window.hmShrink(file, maxSide) -> Promise of a Blob (rejected when the file is no image the browser reads). */
(function () {
  'use strict';
  function decode(file) {
    if (window.createImageBitmap) return createImageBitmap(file, {imageOrientation: 'from-image'});
    return new Promise(function (done, failed) {
      var img = new Image();
      img.onload = function () { done(img); };
      img.onerror = failed;
      img.src = URL.createObjectURL(file);
    });
  }
  window.hmShrink = function (file, maxSide) {
    return decode(file).then(function (img) {
      var k = Math.min(1, maxSide / Math.max(img.width, img.height));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(img.width * k));
      canvas.height = Math.max(1, Math.round(img.height * k));
      canvas.getContext('2d').drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (done, failed) {
        canvas.toBlob(function (b) { if (b) done(b); else failed(new Error('no image')); }, 'image/jpeg', 0.85);
      });
    });
  };
})();
