"""coldsign QR channel: UR parts to and from QR images, video and text; the coldsign-ur tool."""
