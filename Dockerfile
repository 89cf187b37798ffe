# Image for the scaled shape (docker-compose.yml). Not built on the project's machines.
FROM python:3.11-slim
RUN apt-get update && apt-get install -y --no-install-recommends tesseract-ocr clamav \
        tesseract-ocr-chi-sim tesseract-ocr-chi-tra tesseract-ocr-eng ghostscript libmagic1 \
        libreoffice-writer-nogui libreoffice-calc-nogui libreoffice-impress-nogui fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
RUN pip install --no-cache-dir --no-deps -e . \
    && mkdir -p /data /keys /index /clamav /inbox \
    && chown nobody:nogroup /data /keys /index /inbox
# Named volumes start with these owners, so the app never runs as root.
USER nobody
