-- CreateIndex
CREATE INDEX "usage_minutes_minute_idx" ON "usage_minutes"("minute");
