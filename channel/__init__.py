"""coldsign QR channel: UR parts to and from QR images, videos and text, and the coldsign-ur tool."""
