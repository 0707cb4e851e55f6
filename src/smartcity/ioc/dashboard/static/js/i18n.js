// Every string of the page, in Vietnamese (the default) and English; the choice is kept in localStorage.
const STRINGS = {
  vi: {
    title: "Trung tâm điều hành đô thị thông minh TP.HCM",
    "live.open": "Trực tuyến", "live.off": "Ngắt kết nối",
    signout: "Đăng xuất",
    "signin.title": "Đăng nhập", "signin.user": "Tên đăng nhập", "signin.password": "Mật khẩu",
    "signin.submit": "Đăng nhập", "signin.failed": "Sai tên đăng nhập hoặc mật khẩu",
    "signin.role": "Tài khoản này không có quyền xem trung tâm điều hành",
    layers: "Lớp bản đồ",
    "layer.wards": "Phường, xã", "layer.stations": "Trạm không khí", "layer.floods": "Điểm đo ngập",
    "layer.buses": "Xe buýt", "layer.parking": "Bãi đỗ xe", "layer.traffic": "Giao thông",
    "layer.weather": "Thời tiết", "layer.alerts": "Cảnh báo", "layer.reports": "Phản ánh",
    "tab.alerts": "Cảnh báo", "tab.incidents": "Sự cố", "tab.requests": "Phản ánh", "tab.chart": "Biểu đồ",
    "alerts.none": "Không có cảnh báo", "requests.none": "Không có phản ánh",
    "alert.ack": "Xác nhận", "alert.clear": "Kết thúc", "alert.silence": "Tạm tắt 1 giờ",
    "alert.incident": "Mở sự cố", "alert.acked": "Đã xác nhận", "alert.unacked": "Chưa xác nhận",
    "alert.silenced": "Đang tạm tắt", "alert.count": "lần", "alert.incidentOpen": "Sự cố",
    "sev.critical": "Nghiêm trọng", "sev.major": "Cao", "sev.minor": "Trung bình", "sev.warning": "Thấp",
    "sev.info": "Thông tin",
    "status.new": "Mới", "status.assigned": "Đã giao", "status.in_progress": "Đang xử lý",
    "status.resolved": "Đã giải quyết", "status.closed": "Đã đóng", "status.reopened": "Mở lại",
    "incident.move": "Chuyển sang…", "incident.due": "Hạn", "incident.breached": "Quá hạn",
    "incidents.off": "Chưa có bộ phận quản lý sự cố", "requests.off": "Chưa có kênh phản ánh Open311",
    "kpi.alerts": "Cảnh báo đang mở", "kpi.unacked": "chưa xác nhận", "kpi.incidents": "Sự cố đang mở",
    "kpi.breached": "quá hạn", "kpi.mtta": "Thời gian xác nhận TB", "kpi.mttr": "Thời gian xử lý TB",
    "kpi.reports": "Phản ánh đúng hạn", "kpi.aqi": "AQI cao nhất (phường)", "kpi.flood": "Điểm ngập",
    "kpi.parking": "Chỗ đỗ xe trống", "kpi.buses": "Xe buýt đang chạy", "kpi.na": "—",
    "kpi.of": "trên", "kpi.gauges": "điểm đo",
    "chart.pick": "Chọn một trạm trên bản đồ để xem lịch sử", "chart.none": "Chưa có dữ liệu lịch sử",
    "attr.airQualityIndex": "VN_AQI", "attr.pm25": "PM2.5 (µg/m³)", "attr.pm10": "PM10 (µg/m³)",
    "attr.o3": "O₃ (µg/m³)", "attr.co": "CO (µg/m³)", "attr.no2": "NO₂ (µg/m³)", "attr.so2": "SO₂ (µg/m³)",
    "attr.temperature": "Nhiệt độ (°C)", "attr.currentLevel": "Mực nước (m)",
    "attr.floodLevelStatus": "Trạng thái", "attr.availableSpotNumber": "Chỗ trống",
    "attr.totalSpotNumber": "Tổng chỗ", "attr.averageVehicleSpeed": "Tốc độ TB (km/h)",
    "attr.congested": "Ùn tắc", "attr.speed": "Tốc độ (km/h)", "attr.routeNumber": "Tuyến",
    "attr.precipitation": "Lượng mưa (mm)", "attr.relativeHumidity": "Độ ẩm", "attr.windSpeed": "Gió",
    "attr.observedAt": "Cập nhật", "attr.category": "Mức", "attr.dominantPollutant": "Chất chính",
    "error.request": "Không thực hiện được",
  },
  en: {
    title: "HCMC Intelligent Operations Centre",
    "live.open": "Live", "live.off": "Disconnected",
    signout: "Sign out",
    "signin.title": "Sign in", "signin.user": "Username", "signin.password": "Password",
    "signin.submit": "Sign in", "signin.failed": "Wrong username or password",
    "signin.role": "This account may not view the operations centre",
    layers: "Map layers",
    "layer.wards": "Wards", "layer.stations": "Air-quality stations", "layer.floods": "Flood gauges",
    "layer.buses": "Buses", "layer.parking": "Car parks", "layer.traffic": "Traffic",
    "layer.weather": "Weather", "layer.alerts": "Alerts", "layer.reports": "Citizen reports",
    "tab.alerts": "Alerts", "tab.incidents": "Incidents", "tab.requests": "Requests", "tab.chart": "Chart",
    "alerts.none": "No alerts", "requests.none": "No citizen requests",
    "alert.ack": "Acknowledge", "alert.clear": "Clear", "alert.silence": "Silence 1 h",
    "alert.incident": "Open incident", "alert.acked": "Acknowledged", "alert.unacked": "Unacknowledged",
    "alert.silenced": "Silenced", "alert.count": "times", "alert.incidentOpen": "Incident",
    "sev.critical": "Critical", "sev.major": "Major", "sev.minor": "Minor", "sev.warning": "Warning",
    "sev.info": "Info",
    "status.new": "New", "status.assigned": "Assigned", "status.in_progress": "In progress",
    "status.resolved": "Resolved", "status.closed": "Closed", "status.reopened": "Reopened",
    "incident.move": "Move to…", "incident.due": "Due", "incident.breached": "Overdue",
    "incidents.off": "The incident desk is not running", "requests.off": "Open311 reports are not running",
    "kpi.alerts": "Open alerts", "kpi.unacked": "unacknowledged", "kpi.incidents": "Open incidents",
    "kpi.breached": "overdue", "kpi.mtta": "Mean time to acknowledge", "kpi.mttr": "Mean time to resolve",
    "kpi.reports": "Reports answered on time", "kpi.aqi": "Worst ward AQI", "kpi.flood": "Flooded points",
    "kpi.parking": "Free parking spaces", "kpi.buses": "Buses in service", "kpi.na": "—",
    "kpi.of": "of", "kpi.gauges": "gauges",
    "chart.pick": "Pick a station on the map to see its history", "chart.none": "No history yet",
    "attr.airQualityIndex": "VN_AQI", "attr.pm25": "PM2.5 (µg/m³)", "attr.pm10": "PM10 (µg/m³)",
    "attr.o3": "O₃ (µg/m³)", "attr.co": "CO (µg/m³)", "attr.no2": "NO₂ (µg/m³)", "attr.so2": "SO₂ (µg/m³)",
    "attr.temperature": "Temperature (°C)", "attr.currentLevel": "Water level (m)",
    "attr.floodLevelStatus": "Status", "attr.availableSpotNumber": "Free spaces",
    "attr.totalSpotNumber": "Spaces", "attr.averageVehicleSpeed": "Mean speed (km/h)",
    "attr.congested": "Congested", "attr.speed": "Speed (km/h)", "attr.routeNumber": "Route",
    "attr.precipitation": "Rain (mm)", "attr.relativeHumidity": "Humidity", "attr.windSpeed": "Wind",
    "attr.observedAt": "Updated", "attr.category": "Level", "attr.dominantPollutant": "Main pollutant",
    "error.request": "That did not work",
  },
};

const KEY = "ioc.lang";
let lang = STRINGS[localStorage.getItem(KEY)] ? localStorage.getItem(KEY) : "vi";
const listeners = [];

export const languages = Object.keys(STRINGS);
export const current = () => lang;
export const t = (key) => STRINGS[lang][key] ?? STRINGS.vi[key] ?? key;

// A {"vi": ..., "en": ...} text in the current language.
export const pick = (texts) => (texts ? texts[lang] ?? texts.vi ?? texts.en ?? "" : "");

export function apply(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  document.title = t("title");
}

export function setLanguage(next) {
  if (!STRINGS[next] || next === lang) return;
  lang = next;
  localStorage.setItem(KEY, lang);
  apply();
  for (const fn of listeners) fn(lang);
}

export const onChange = (fn) => listeners.push(fn);

const ZONE = "Asia/Ho_Chi_Minh";
export function when(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleString(lang === "vi" ? "vi-VN" : "en-GB", { timeZone: ZONE, dateStyle: "short", timeStyle: "short" });
}

export function duration(seconds) {
  if (seconds == null) return t("kpi.na");
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}
